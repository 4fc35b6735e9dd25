"""The bare rows of the minimum baseline (created in the benchmark's own database only)."""

from django.db import models


class BenchRow(models.Model):
    state = models.CharField(max_length=16)
    version = models.PositiveIntegerField()

    def __str__(self):
        return f"{self.pk} {self.state}"


class BenchEvent(models.Model):
    row = models.ForeignKey(BenchRow, on_delete=models.CASCADE)
    action = models.CharField(max_length=16)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.row_id} {self.action}"
