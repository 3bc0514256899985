"""Australian rules: GST, ABN, consumer law, product safety. Pure functions, sources cited."""
