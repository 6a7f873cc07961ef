"""A lead as its page and `GET /api/v1/leads/<id>` show it. An adapter helper (both adapters use it):
it puts the lead's own reads together with the questions its organisation asked in the session that
made the lead, which the live domain reads for it."""

from __future__ import annotations

from ..live.services import organisation_questions
from . import queries


def lead_detail(actor, lead) -> dict:
    row = queries.annotate(actor, [lead])[0]
    return {
        **row,
        "can_change": queries.can_change(actor, lead),
        "history": queries.history(lead),
        "interests": [queries.interest_dict(i) for i in queries.interests_of(lead)],
        "questions": organisation_questions(lead.session_id, lead.organisation_id) if lead.session_id else [],
        "documents": [{"id": d.id, "kind": d.kind, "name": d.original_name, "mime": d.mime, "size": d.size,
                       "created_at": d.created_at.isoformat(),
                       "download_url": f"/api/v1/lead-documents/{d.id}/download"} for d in queries.documents(lead)],
    }
