"""The data-in layer: from a file on disk to a validated, pseudonymised table.

read (:mod:`.read`) → find the table (:mod:`.formats`) → map columns and values, reshape,
stack, merge (:mod:`.mapping`) → validate, every problem at once (:mod:`.validate`) →
pseudonymise (:mod:`.personal`). :mod:`.programme` runs these steps for a programme folder;
:mod:`.scaffold` (``evalkit new``) and :mod:`.check` (``evalkit check``) are built on it.

Nothing here imports :mod:`evalkit.report`.
"""
