"""PEP 740 provenance: finding attestations, verifying them with Sigstore, naming the publisher."""
