"""What the upload gate and the verified index share: HTTP answers, and the review page where
people decide on what either of them blocked."""
