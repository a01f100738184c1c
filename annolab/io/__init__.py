"""Data in and out: frames of tasks, annotation imports, exports."""
