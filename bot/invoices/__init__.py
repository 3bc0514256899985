"""Tax invoices posted in a review's thread (GST Act s29-70)."""
