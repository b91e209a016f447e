from app.services.core import audit_chain


def test_seeded_site_has_an_intact_chain(seed, backend):
    report = audit_chain.verify_chain(seed.db)
    assert report.ok, report.problem
    assert report.count > 20
