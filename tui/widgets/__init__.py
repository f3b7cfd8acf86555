"""Display-only widgets: they get data through methods and never compute it."""
