"""The product safety incident register: ACL s131 reports and s128 recalls, with deadline alerts."""
