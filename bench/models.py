"""The bare rows of the minimum baseline (created in the benchmark's own database only)."""

from django.db import models


class BenchRow(models.Model):
    state = models.CharField(max_length=16)
    version = models.PositiveIntegerField()


class BenchEvent(models.Model):
    row = models.ForeignKey(BenchRow, on_delete=models.CASCADE)
    action = models.CharField(max_length=16)
    at = models.DateTimeField()
