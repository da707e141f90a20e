"""One screen per section: dashboard, phase, deliverables register, report; plus help."""
