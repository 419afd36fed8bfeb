from tests.conftest import make_ticket, pdf
from tickets.models import Attachment


def test_the_requester_downloads_an_attachment_as_a_file(client, db):
    t = make_ticket(files=[pdf("../../Informe\r\nfinal.pdf")])
    a = Attachment.objects.get()
    r = client.get(f"/ticket/{t.tracking_id}/adjunto/{a.pk}/")
    assert r.status_code == 200
    assert r["Content-Disposition"].startswith("attachment;")
    assert "Informe final.pdf" in r["Content-Disposition"]
    assert "/" not in r["Content-Disposition"].split("filename")[1]
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Content-Type"] == "application/octet-stream"
    assert "sandbox" in r["Content-Security-Policy"]
    assert b"".join(r.streaming_content).startswith(b"%PDF-")


def test_an_attachment_is_refused_without_the_right_tracking_id(client, db):
    mine = make_ticket(files=[pdf()])
    other = make_ticket()
    a = Attachment.objects.get(ticket=mine)
    assert client.get(f"/ticket/{other.tracking_id}/adjunto/{a.pk}/").status_code == 404
    assert client.get(f"/ticket/AAA-BBB-2222/adjunto/{a.pk}/").status_code == 404
    assert client.get(f"/ticket/{mine.tracking_id}/adjunto/{a.pk}/").status_code == 200


def test_an_internal_notes_attachment_is_not_downloadable_by_the_requester(client, db, agent):
    t = make_ticket()
    note = t.add_agent_reply(
        user=agent, message="interno", kind="internal", files=[pdf("interno.pdf")]
    )
    a = note.attachments.get()
    assert client.get(f"/ticket/{t.tracking_id}/adjunto/{a.pk}/").status_code == 404


def test_uploaded_files_are_never_under_a_public_url(db, settings):
    assert settings.MEDIA_URL in (None, "")


def test_a_file_gone_from_storage_is_a_404_for_the_requester_and_for_staff(
    client, agent_client, db
):
    t = make_ticket(files=[pdf()])
    a = Attachment.objects.get()
    a.file.storage.delete(a.file.name)
    assert client.get(f"/ticket/{t.tracking_id}/adjunto/{a.pk}/").status_code == 404
    assert agent_client.get(f"/admin/tickets/ticket/{t.pk}/adjunto/{a.pk}/").status_code == 404


def test_a_file_in_storage_is_served_to_both(client, agent_client, db):
    t = make_ticket(files=[pdf()])
    a = Attachment.objects.get()
    assert client.get(f"/ticket/{t.tracking_id}/adjunto/{a.pk}/").status_code == 200
    assert agent_client.get(f"/admin/tickets/ticket/{t.pk}/adjunto/{a.pk}/").status_code == 200
