"""Everything that talks to package indexes. The only place that imports ``requests``."""
