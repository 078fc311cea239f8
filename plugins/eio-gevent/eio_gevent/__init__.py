"""The ``gevent`` and ``gevent_uwsgi`` async modes for engineio-core.

Two plugins from one distribution (entry points in ``engineio_core.async_modes``):

* :mod:`eio_gevent.gevent_mode` (``gevent``): gevent's ``pywsgi`` server, with
  or without gevent-websocket's ``WebSocketHandler``, and gunicorn's
  ``gevent`` and ``GeventWebSocketWorker`` workers.
* :mod:`eio_gevent.uwsgi_mode` (``gevent_uwsgi``): uWSGI running its gevent
  loop (``uwsgi --gevent N``).

Neither entry module imports gevent (or uwsgi) until the mode is used.
"""
