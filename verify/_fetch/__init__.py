"""Getting distribution files: the content-addressed store and the parallel fetcher."""
