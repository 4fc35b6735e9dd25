"""Writing many rows at once, without a model instance per row (opening a round writes thousands)."""

import sqlite3

from django.db import connection


def insert(model, rows, *, returning=True):
    """INSERT rows (dicts of attname → value; unnamed fields take their defaults) in as few statements as
    the database allows, and return the new primary keys in order.

    Every distinct value is prepared once by its field, as the ORM would, so a bulk of similar rows costs
    little more than the database's own work. No `pre_save` runs: only for models without `auto_now`
    fields and the like.
    """
    if not rows:
        return []
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    prepared = {field.attname: {} for field in fields}

    def prepare(field, value):
        cache = prepared[field.attname]
        try:
            return cache[value]
        except KeyError:
            cache[value] = field.get_db_prep_save(value, connection)
            return cache[value]
        except TypeError:  # an unhashable value (a dict for a JSON field): prepared each time
            return field.get_db_prep_save(value, connection)

    defaults = {field.attname: field.get_default() for field in fields}
    table, columns = (
        connection.ops.quote_name(model._meta.db_table),
        [connection.ops.quote_name(f.column) for f in fields],
    )
    returns = f" RETURNING {connection.ops.quote_name(model._meta.pk.column)}" if returning else ""
    values = [[prepare(field, row.get(field.attname, defaults[field.attname])) for field in fields] for row in rows]
    ids = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) > 20:
            # One array per column (as Django's bulk_create does for PostgreSQL): the statement's text stays
            # short, however many rows.
            arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM UNNEST({arrays}){returns}",
                [list(column) for column in zip(*values, strict=True)],
            )
            ids = [row[0] for row in cursor.fetchall()] if returning else []
        else:
            per_statement = rows_per_statement(len(fields))
            for start in range(0, len(values), per_statement):
                batch = values[start : start + per_statement]
                placeholders = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(batch))
                cursor.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES {placeholders}{returns}",
                    [value for row in batch for value in row],
                )
                if returning:
                    ids.extend(row[0] for row in cursor.fetchall())
    return ids


def rows_per_statement(columns):
    """SQLite takes 500 rows of VALUES at most (a compound SELECT), within its limit of variables."""
    if connection.vendor != "sqlite":
        return 1000
    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return max(1, min(500, limit // columns))
