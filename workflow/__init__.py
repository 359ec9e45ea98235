"""The hazard workflow domain: lifecycle, grading, escalation, repeats, permits, sensors, audit, KPIs.

Layout (cosmicpython-like): ``workflow.domain`` holds pure rules (frozen dataclasses and functions with
an injectable clock), ``workflow.persistence`` the SQLAlchemy models, repository and unit of work, and
``workflow.services`` the use cases the serving layer calls (one transaction each).
Nothing here imports vision, cameras, serving or any infrastructure client.
"""
