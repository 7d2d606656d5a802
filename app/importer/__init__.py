"""Import of existing clients from a spreadsheet (metal, seed 001: «мы перенесли все данные
клиента из Excel-таблиц в Битрикс24»).

The flow, each step its own module:

* ``columns`` — which spreadsheet column is which field (headers recognised in Russian and
  English; every choice can be overridden);
* ``rows`` — one spreadsheet row → a validated :class:`~app.importer.rows.Row` or a
  refusal with every reason (bad phone, empty name, unknown manager, …);
* ``index`` / ``plan`` — duplicates against the portal (phone, e-mail, INN, company name,
  the Object dedup key) and what to do with each row: create, skip or merge;
* ``commands`` — the REST batch commands of a chunk of rows;
* ``run`` — the imperative shell: read the file, refresh the mirror, plan, write in
  batches, checkpoint every chunk in the store so a killed run resumes.
"""
