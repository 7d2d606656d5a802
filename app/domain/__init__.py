"""Pure domain logic for the five playbooks.

Nothing here performs I/O, reads the clock, talks to Bitrix24 or knows its wire names: rules
and robots translate portal fields into the plain values and dataclasses these modules take
(``length_m``, ``purpose``, ``budget``...) and pass ``now`` explicitly.

Modules: numbers, area, templates, routing, dedup, merge, scoring, validation, calendar,
sequences, booking, segments, b2b.
"""
