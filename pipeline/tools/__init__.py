"""Offline tools that read a finished run: calibration of thresholds, the wrong-language audit, targeted fetch."""
