"""Entrances to the one queue that are not a person at a form (issue 4 §3): `hotline`
imports the 12345 hotline's orders from a CSV or xlsx export, `sensors` takes alarms from
networked devices (smoke detectors…) that authenticate with their own key.

Both file every case through case_services.case_report, with the order number or the
alarm id as its external_ref, so the same order or alarm is never taken in twice.
"""
