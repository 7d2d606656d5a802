"""Pure domain logic for the five playbooks.

Nothing here performs I/O, reads the clock, talks to Bitrix24 or knows its wire names: rules
and robots translate portal fields into the plain values and dataclasses these modules take
(``length_m``, ``purpose``, ``budget``...) and pass ``now`` explicitly. User-facing texts are
Russian; exceptions raised for bad input carry Russian text with an English gloss.

Modules (each exports its API in ``__all__``):
    numbers, text          parsing typed numbers/units, Russian number format, text keys
    area                   area and tonnage (metal)
    templates              title templates: strict compile, forgiving render
    routing                routing table and the «Не обработан» decision (metal)
    clients                existing-client identification, responsible alignment (metal, b2b)
    dedup, merge           Object duplicate keys/matches and merge plans (metal)
    scoring_model, scoring_default, scoring   ABC qualification (kitchens)
    validation             stage requirements, e-mail/phone checks (kitchens, all)
    calendar               working-hours calendar
    sequences, cadences    escalation chains / cadences and the playbooks' presets
    booking                measurers' schedules (kitchens)
    milestones             deal date rules, refusal reasons (metal, furniture)
    stores                 city → store table for the furniture hand-off
    segments               e-shop segments, orders per client, stage timing, refusals
    b2b                    reorder interval, next-step check, NPS
    reports                report arithmetic (b2b, metal source analytics)
"""
