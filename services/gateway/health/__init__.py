"""Health and fitness imports: export parsers, day aggregation and habit auto-logging rules."""
