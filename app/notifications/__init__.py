"""In-app notifications: rows a person reads in CloudFair (mail and live delivery come on top)."""
