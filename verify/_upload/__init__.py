"""Upload screening for private indexes: the upload gate, its quarantine and its queue."""
