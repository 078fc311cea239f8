"""The sans-IO Engine.IO protocol: packets, payloads, sessions and routing.

Nothing in this package does I/O, starts threads, touches asyncio or reads
the clock: time is passed in. ``tests/unit/test_sans_io.py`` checks the
imports.
"""
