"""One screen per activity; screens start workers and route their messages to widgets."""
