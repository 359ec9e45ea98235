"""Frame acquisition: RTSP snapshots with health, and field-photo intake. Imports ``vision`` only.

Modules, one job each:
  config     camera definitions (pydantic, extra="forbid", frozen) and ``load_cameras(path)``
  redact     ``redact_url`` / ``scrub``: credentials never reach logs, events or errors
  stream     PyAV open with timeouts, error kinds, access units, the snapshot decoder
  grabber    ``PersistentGrabber`` (reader thread, newest GOP) and ``grab_on_demand``
  quality    frozen / black / decode-error flags
  health     ``StreamState`` transition table, ``Backoff``, ``HealthTracker``, typed events
  snapshot   ``Snapshot`` (what sinks receive) and ``SnapshotSink``
  worker     one thread per camera: schedule, grab, judge, hand to the sink
  scheduler  this worker's shard of cameras; ``sharding`` maps camera -> worker
  probe      ``probe(url)`` behind ``hazardeye camera probe``
  photos     ``intake_photo(bytes)`` -> ``IntakePhoto`` or ``PhotoRejected``
"""
