"""The service catalogue (在线办事): matters, notices, follows, search and a person's own matters.

A matter (事项) is a registered client that carries catalogue data (``OAuthClient.catalogue_json``,
validated by :mod:`idp.catalogue.schema`), so unit grants, consents and tokens, which are all per
client, are per matter too. Notices (通知通告) and published results (结果公示) are operator-managed
rows of their own (:mod:`idp.catalogue.notices`).
"""
