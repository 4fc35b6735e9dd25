"""Static files for production: hashed names and compressed copies, tolerant of a library's dead links."""

import logging

from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's manifest storage, except that a CSS reference to a file nobody ships stays as written.

    viewflow's bundled Roboto stylesheet names font files (e.g. `Roboto-Thin.woff2`) that its package
    does not contain; the stock storage stops `collectstatic` there, so no manifest is written and every
    page fails with DEBUG off. Such a reference is left unchanged (the browser falls back to another
    font) and logged, while every file that exists is still hashed and referenced by its hashed name.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.missing_references = set()

    def create_compressor(self, **kwargs):
        # gzip copies only: brotli at its highest level (WhiteNoise's, whenever the brotli module is importable,
        # as the load generator's HTTP client brings it) takes minutes of collectstatic on two cores.
        return super().create_compressor(**{**kwargs, "use_brotli": False})

    def url_converter(self, name, hashed_files, template=None):
        convert = super().url_converter(name, hashed_files, template)

        def converter(matchobj):
            try:
                return convert(matchobj)
            except ValueError as error:
                if "could not be found" not in str(error):
                    raise
                if (name, matchobj["url"]) not in self.missing_references:  # post_process makes several passes
                    self.missing_references.add((name, matchobj["url"]))
                    logger.warning("%s refers to %s, which does not exist; left unchanged", name, matchobj["url"])
                return matchobj["matched"]

        return converter
