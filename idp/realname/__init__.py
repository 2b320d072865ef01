"""Real-name verification of natural persons.

The building blocks here are pure (no Flask, no database): document-number validation
(:mod:`~idp.realname.idnumber`), reference lists (:mod:`~idp.realname.reference`), masking and log
redaction (:mod:`~idp.realname.masking`), photo sanitising (:mod:`~idp.realname.uploads`) and the
adapter to the national verification source (:mod:`~idp.realname.source`).
"""
