"""Lead pages: the board, a lead's page, the monthly report, the dashboard, signing ceremonies,
invitees and the demand profile. Every lead read goes through `pipeline` (and so `queries.scope`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

from .. import bilingual
from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response
from flask_babel import gettext, ngettext
from flask_login import current_user

from ..bounds import MONTH_PATTERN
from ..accounts.access import USER, allow
from ..errors import NotFound, ServiceError, ValidationFailed
from ..fairs import services as fairs
from ..forms import attach_errors
from ..i18n import format_amount, format_moment, ui_locale
from ..projects import storage
from ..reference.services import country_choices, list_sectors
from . import queries, services
from .queries import board, exports, numbers
from .detail import lead_detail
from .enums import ALL_STAGES, STAGE_ORDER, LeadStage, allowed_stages, document_kind_label, is_backwards, level_label
from .forms import DemandForm, DocumentForm, OwnerForm, ProgressForm, RateForm, ReportForm, SigningForm, StallLimitForm

bp = Blueprint("leads", __name__)

MONTH = re.compile(MONTH_PATTERN)


def calendar_day(value: str | date | None) -> str:
    """A calendar date (no time, no zone: a next action) as the reader's language writes dates."""
    if not value:
        return ""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return format_moment(datetime.combine(day, time(12), tzinfo=UTC), "UTC", "date")


def month_label(month: str) -> str:
    """"2026-12" as the reader's language names the month: "December 2026", "2026年12月"."""
    year, number = (int(part) for part in month.split("-"))
    return format_moment(datetime(year, number, 15, 12, tzinfo=UTC), "UTC", "month")


@bp.app_context_processor
def _stage_helpers():
    return {"stage_label": board.stage_label, "level_label": level_label, "document_kind_label": document_kind_label,
            "history_note": board.history_note, "calendar_day": calendar_day, "month_label": month_label}


def _stage_choices(actor, current: str) -> list[tuple[str, str]]:
    """The stages this person may pick (the service's rule, `enums.allowed_stages`), labelled."""
    return [(s.value, board.stage_label(s)) for s in allowed_stages(actor.role, current)]


def _safe_board_url(target: str | None) -> str:
    if target and target.startswith("/leads") and not target.startswith("//"):
        return target
    return url_for("leads.board_page")


def _said(exc: ServiceError) -> str:
    """What a refusal says to a person: a validation's messages without the API's field names."""
    if isinstance(exc, ValidationFailed):
        return " ".join(message for messages in exc.fields.values() for message in messages)
    return exc.message


def post_form(form, act: Callable[[], str], back: str, *, invalid: str | None = None) -> Response:
    """An HTML form posted to a page that shows the outcome (the lead's page, the dashboard): when the
    form is complete, `act()` calls the service and returns what to say on success; a refusal is said
    in words (`_said`), except "not found", which stays a 404; then back to `back` (the page's anchor).
    An expired or incomplete form says `invalid` (or that it expired). Nothing is written on error."""
    if form.validate_on_submit():
        try:
            flash(act(), "success")
        except NotFound:
            raise
        except ServiceError as exc:
            flash(_said(exc), "error")
    else:
        flash(invalid or gettext("The form expired or was incomplete; try again."), "error")
    return redirect(back)


def _decimal_text(value) -> str:
    return (value or "").replace(",", "").replace(" ", "").strip()


# ---------------------------------------------------------------- the board


def _filters_from(args) -> tuple[queries.LeadFilters, dict]:
    """The board's filters; `from`/`to`/`counted`/`foreign` come from a number on the dashboard."""
    values = {
        "fair_id": args.get("fair_id", type=int),
        "city": (args.get("city") or "").strip() or None,
        "sector": (args.get("sector") or "").strip() or None,
        "owner_id": args.get("owner_id", type=int),
        "stalled": {"yes": True, "no": False}.get(args.get("stalled") or ""),
        "foreign": {"true": True, "false": False}.get(args.get("foreign") or ""),
    }
    period = None
    first, last = args.get("from") or None, args.get("to") or None
    if (first or last) and all(m is None or MONTH.match(m) for m in (first, last)):
        try:
            period = numbers.parse_period(first, last)
        except ValidationFailed:
            period = None
    counted = args.get("counted") if args.get("counted") in numbers.COUNTED else "made"
    values.update({"from": period.first if period else None, "to": period.last if period else None,
                   "counted": counted if period else None})
    filters = queries.LeadFilters(period=period, counted=counted, **{
        k: values[k] for k in ("fair_id", "city", "sector", "owner_id", "stalled", "foreign")})
    return filters, values


@bp.route("/leads")
@allow(USER)
def board_page():
    actor = current_user
    filters, values = _filters_from(request.args)
    columns, total = board.board(actor, filters)
    choices = board.filter_choices(actor)
    fairs_list, _ = fairs.list_fairs(actor, per_page=200)
    csv_args = {k: v for k, v in values.items() if v is not None and k not in ("stalled", "foreign")}
    for flag in ("stalled", "foreign"):
        if values[flag] is not None:
            csv_args[flag] = "true" if values[flag] else "false"
    movable = actor.role in ("attendee", "organiser")
    return render_template(
        "leads/board.html",
        columns=columns,
        total=total,
        shown=sum(len(c) for c in columns.values()),
        stages=STAGE_ORDER,
        filters=values,
        cities=choices["cities"],
        owners=choices["owners"],
        sectors=list_sectors(),
        fairs=fairs_list,
        movable=movable,
        next_stage=board.next_stage,
        stage_choices=lambda current: _stage_choices(actor, current),
        csv_url=url_for("leads_api.leads_csv", **csv_args),
        title=gettext("Interest in my projects") if actor.role == "presenter" else gettext("Leads"),
    )


@bp.route("/leads/<int:lead_id>/progress", methods=["POST"])
@allow("attendee", "organiser")
def progress(lead_id: int):
    """Progress from the lead page's form or a board card's move buttons."""
    form = ProgressForm()
    from_lead = request.form.get("from") == "lead"
    back = _safe_board_url(request.form.get("next"))
    lead = queries.get_lead(current_user, lead_id)  # 404 outside the actor's scope
    lead_page = url_for("leads.lead_page", lead_id=lead_id)
    if not form.validate_on_submit():
        if from_lead and not form.csrf_token.errors:
            return _render_lead(lead_id, progress_form=form, status=422)
        flash(gettext("The form expired or was incomplete; try again."), "error")
        return redirect(lead_page if from_lead else back)
    current = lead.stage
    target = form.stage.data or current
    data = {
        "stage": target,
        "note": form.note.data or "",
        "amount": _decimal_text(form.amount.data) or None,
        "currency": (form.currency.data or "").strip().upper() or None,
        "next_action_on": form.next_action_on.data,
    }
    try:
        services.progress(current_user, lead_id, data)
    except ValidationFailed as exc:
        if from_lead:
            problems = attach_errors(form, exc.fields)
            for message in problems:
                flash(message, "error")
            return _render_lead(lead_id, progress_form=form, status=422)
        if "note" in exc.fields and (target == LeadStage.DROPPED or is_backwards(current, target)):
            flash(gettext("Moving “%(project)s” to %(stage)s needs a reason: give it here.",
                          project=lead.project.title, stage=board.stage_label(target)), "info")
            return redirect(url_for("leads.lead_page", lead_id=lead_id, stage=target) + "#progress")
        flash(_said(exc), "error")
        return redirect(back)
    except ServiceError as exc:
        flash(_said(exc), "error")
        return redirect(lead_page if from_lead else back)
    if target != current:
        flash(gettext("“%(project)s” (%(organisation)s) moved to %(stage)s.", project=lead.project.title,
                      organisation=bilingual.plain(lead.organisation, "name"), stage=board.stage_label(target)), "success")
    else:
        flash(gettext("The progress is saved."), "success")
    return redirect(lead_page if from_lead else back)


# ---------------------------------------------------------------- one lead


def _session_titles(actor, session_ids) -> dict[int, object]:
    out = {}
    for session_id in {s for s in session_ids if s}:
        try:
            out[session_id] = fairs.get_session(actor, session_id)
        except NotFound:
            continue
    return out


def _timeline(detail: dict, sessions: dict) -> list[dict]:
    """Interests, the organisation's questions and every history row, oldest first."""
    items = []
    for interest in detail["interests"]:
        session = sessions.get(interest["session_id"])
        second = interest["pitch_second"]
        at = datetime.fromisoformat(interest["created_at"])
        phase = None  # no pitch minute: the interest came before the pitch started or after it ended
        if second is None and session is not None:
            phase = "before" if at < session.starts_at else "after"
        items.append({"kind": "interest", "at": at, "item": interest, "session": session,
                      "minute": None if second is None else second // 60, "phase": phase})
    for question in detail["questions"]:
        items.append({"kind": "question", "at": datetime.fromisoformat(question["created_at"]), "item": question,
                      "session": sessions.get(question["session_id"])})
    for row in detail["history"]:
        items.append({"kind": "history", "at": datetime.fromisoformat(row["created_at"]), "item": row})
    order = {"interest": 0, "question": 1, "history": 2}
    items.sort(key=lambda i: (i["at"], order[i["kind"]]))
    return items


def _render_lead(lead_id: int, *, progress_form=None, owner_form=None, document_form=None, status: int = 200):
    actor = current_user
    lead = queries.get_lead(actor, lead_id)
    detail = lead_detail(actor, lead)
    sessions = _session_titles(actor, [lead.session_id] + [i["session_id"] for i in detail["interests"]])
    can_change = detail["can_change"]
    if can_change:
        if progress_form is None:
            progress_form = ProgressForm(formdata=None)
            wanted = request.args.get("stage")
            progress_form.stage.data = wanted if wanted in {s.value for s in ALL_STAGES} else lead.stage
        progress_form.stage.choices = _stage_choices(actor, lead.stage)
        if owner_form is None:
            owner_form = OwnerForm(formdata=None)
            owner_form.owner_id.data = lead.owner_id
        owner_form.owner_id.choices = [(u.id, u.name) for u in board.organisation_members(lead.organisation_id)]
        document_form = document_form or DocumentForm(formdata=None)
    proposals_shown, proposal_form, visit_form, plots = _proposals(actor, lead, can_change)
    return render_template(
        "leads/lead.html",
        proposals=proposals_shown,
        proposal_form=proposal_form,
        visit_form=visit_form,
        proposable_plots=plots,
        lead=lead,
        detail=detail,
        session=sessions.get(lead.session_id),
        timeline=_timeline(detail, sessions),
        can_change=can_change,
        progress_form=progress_form,
        owner_form=owner_form,
        document_form=document_form,
        max_upload_mb=storage.max_upload_bytes() // (1024 * 1024),
    ), status


def _proposals(actor, lead, can_change: bool):
    """The lead's site proposals, and for its organisation and organisers the plots they may propose."""
    from ..parks import proposals as site_proposals
    from ..parks.forms import ProposalForm, VisitForm

    shown = [site_proposals.proposal_dict(p) for p in site_proposals.proposals_of(actor, lead.id)]
    if not can_change:
        return shown, None, None, []
    plots = [{"id": p.id, "name": p.name, "park_i18n": bilingual.pair(p.park, "name"), "area_mu": p.area_mu,
              "price_per_mu": p.price_per_mu, "currency": p.currency, "status": p.status}
             for p in site_proposals.own_plots(lead)]
    return shown, ProposalForm(formdata=None), VisitForm(formdata=None), plots


@bp.route("/leads/<int:lead_id>")
@allow(USER)
def lead_page(lead_id: int):
    return _render_lead(lead_id)


@bp.route("/leads/<int:lead_id>/owner", methods=["POST"])
@allow("attendee", "organiser")
def set_owner(lead_id: int):
    form = OwnerForm()
    if form.validate_on_submit():
        try:
            lead = services.set_owner(current_user, lead_id, form.owner_id.data)
            flash(gettext("%(name)s is now responsible for this lead.", name=lead.owner.name), "success")
        except ValidationFailed as exc:
            attach_errors(form, exc.fields)
            return _render_lead(lead_id, owner_form=form, status=422)
        except ServiceError as exc:
            if isinstance(exc, NotFound):
                raise
            flash(_said(exc), "error")
    else:
        flash(gettext("The form expired or was incomplete; try again."), "error")
    return redirect(url_for("leads.lead_page", lead_id=lead_id))


@bp.route("/leads/<int:lead_id>/documents", methods=["POST"])
@allow("attendee", "organiser")
@storage.accepts_upload
def add_document(lead_id: int):
    form = DocumentForm()

    def attach() -> str:
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            queries.get_lead(current_user, lead_id)
            raise ValidationFailed({"file": gettext("Choose a file to upload.")})
        document = services.add_document(current_user, lead_id, upload.stream, upload.filename, form.kind.data)
        return gettext("“%(name)s” is attached.", name=document.original_name)

    return post_form(form, attach, url_for("leads.lead_page", lead_id=lead_id) + "#documents")


# ---------------------------------------------------------------- the monthly report


def _amount_text(value) -> str:
    return "" if value is None else f"{value:.2f}"


def _changed(lead, entry) -> dict | None:
    """What one report row changes, as a progress update, or None when it changes nothing."""
    update: dict = {"lead_id": lead.id}
    stage = entry.stage.data
    if stage and stage != lead.stage:
        update["stage"] = stage
    note = (entry.note.data or "").strip()
    if note:
        update["note"] = note
    if entry.next_action_on.data and entry.next_action_on.data != lead.next_action_on:
        update["next_action_on"] = entry.next_action_on.data.isoformat()
    amount = _decimal_text(entry.amount.data)
    currency = (entry.currency.data or "").strip().upper()
    if amount or currency:
        try:
            same = (lead.expected_amount is not None and Decimal(amount) == lead.expected_amount
                    and currency == (lead.currency or ""))
        except InvalidOperation:
            same = False
        if not same:
            update["amount"], update["currency"] = amount or None, currency or None
    return update if len(update) > 1 else None


@bp.route("/leads/report", methods=["GET", "POST"])
@allow("attendee")
def report():
    actor = current_user
    leads = queries.open_leads_for_report(actor)
    by_id = {lead.id: lead for lead in leads}
    rows = {str(r["id"]): r for r in queries.annotate(actor, leads)}
    form = ReportForm()
    if request.method == "GET":
        for lead in leads:
            form.rows.append_entry({"lead_id": str(lead.id), "stage": lead.stage, "next_action_on": lead.next_action_on,
                                    "amount": _amount_text(lead.expected_amount), "currency": lead.currency or ""})
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            updates, positions = [], []
            for index, entry in enumerate(form.rows):
                lead = by_id.get(int(entry.lead_id.data)) if (entry.lead_id.data or "").isdigit() else None
                if lead is None:
                    problems.append(gettext("A lead in this report is no longer open; reload the page."))
                    continue
                update = _changed(lead, entry)
                if update is not None:
                    updates.append(update)
                    positions.append(index)
            if not problems and not updates:
                problems.append(gettext("Nothing changed: update at least one lead before filing the report."))
            if not problems:
                try:
                    filed = services.file_report(actor, updates, form.note.data or "")
                except ValidationFailed as exc:
                    for key, messages in exc.fields.items():
                        match = re.fullmatch(r"updates\[(\d+)\]\.(\w+)", key)
                        if not match or int(match.group(1)) >= len(positions):
                            problems += list(messages)
                            continue
                        entry = form.rows[positions[int(match.group(1))]]
                        field = entry.form._fields.get(match.group(2))
                        if field is None or match.group(2) == "lead_id":
                            problems += [f"{rows.get(entry.lead_id.data, {}).get('project', '')}: {m}" for m in messages]
                        else:
                            field.errors = list(field.errors) + list(messages)
                    problems.insert(0, gettext("Nothing was saved: correct the marked leads and file the report again."))
                else:
                    flash(ngettext("Your report for %(month)s is filed: %(num)d lead updated.",
                                   "Your report for %(month)s is filed: %(num)d leads updated.",
                                   len(updates), month=month_label(filed.month)), "success")
                    return redirect(url_for("leads.report"))
        elif form.csrf_token.errors:
            problems.append(gettext("The form expired; try again."))
        else:
            problems.append(gettext("Nothing was saved: correct the marked leads and file the report again."))
        status = 422
    for entry in form.rows:
        lead = by_id.get(int(entry.lead_id.data)) if (entry.lead_id.data or "").isdigit() else None
        entry.stage.choices = _stage_choices(actor, lead.stage if lead else LeadStage.DROPPED)
    return render_template("leads/report.html", form=form, rows=rows, problems=problems,
                           month=queries.host_month()), status


@bp.route("/leads/reports")
@allow("organiser")
def reports():
    month = request.args.get("month") or ""
    month = month if MONTH.match(month) else queries.host_month()
    return render_template(
        "leads/reports.html",
        month=month,
        missing=queries.missing_reports(current_user, month),
        reports=board.month_reports(current_user, month),
    )


# ---------------------------------------------------------------- the dashboard

CHART_WIDTH = 260  # pixels of the longest bar


def _bars(groups: list[dict], label, *, measure: str = "count") -> list[dict]:
    def value(group):
        return Decimal(group["investment_cny"]) if measure == "cny" else Decimal(group["count"])

    top = max((value(g) for g in groups), default=Decimal(0))
    return [{
        **g,
        "label": label(g["key"]),
        "short": label(g["key"]) if len(label(g["key"])) <= 22 else label(g["key"])[:21] + "…",
        "width": 0 if not top else max(int(value(g) / top * CHART_WIDTH), 2 if value(g) else 0),
        "amount": board.large_cny(g["investment_cny"]),
        "amount_short": board.large_cny(g["investment_cny"], short=True),
    } for g in groups]


PERIOD_PRESETS = ("month", "quarter", "year")


def _dashboard_period(args) -> tuple[numbers.Period, str, list[str]]:
    """The period asked for (a preset or a from–to range of months), default this year; problems are
    shown beside the form rather than refused."""
    problems: list[str] = []
    choice = args.get("period") or ("range" if args.get("from") or args.get("to") else "year")
    if choice in PERIOD_PRESETS:
        return numbers.preset(choice), choice, problems
    try:
        return numbers.parse_period(args.get("from") or None, args.get("to") or None), "range", problems
    except ValidationFailed as exc:
        problems = [m for messages in exc.fields.values() for m in messages]
        return numbers.preset("year"), "year", problems


def _number_link(period: numbers.Period, counted: str, **filters) -> str:
    """The board showing the rows behind a number (`month` narrows the period to one month)."""
    month = filters.pop("month", None)
    args = {"from": month or period.first, "to": month or period.last, "counted": counted}
    args.update({k: v for k, v in filters.items() if v is not None})
    return url_for("leads.board_page", **args)


@bp.route("/dashboard")
@allow("organiser")
def dashboard():
    actor = current_user
    locale = ui_locale()
    period, choice, problems = _dashboard_period(request.args)
    fair_id = request.args.get("fair_id", type=int)
    city = request.args.get("city") or None
    if city and not (city.isdigit() and len(city) == 6):
        problems.append(gettext("Choose a city from the list."))
        city = None
    scope = numbers.Scope(division=city, fair_id=fair_id)
    summary = numbers.summary(actor, period, scope, locale=locale)
    before = numbers.summary(actor, period.year_before(), scope, locale=locale)
    by_stage = queries.pipeline_stats(actor, "stage", fair_id, locale=locale)
    present = {g["key"]: g for g in by_stage["groups"]}
    stage_groups = [present.get(s.value, {"key": s.value, "count": 0, "investment": {}, "investment_cny": "0.00"})
                    for s in STAGE_ORDER]
    funnel = by_stage["funnel"]
    top = max(funnel.values(), default=0)
    funnel_bars = [{"key": k, "count": v, "width": 0 if not top else max(int(v / top * CHART_WIDTH), 2 if v else 0)}
                   for k, v in funnel.items()]
    month_top = max((Decimal(m["signed"]["amount_cny"]) for m in summary["by_month"]), default=Decimal(0))
    month_bars = [{**m, "width": 0 if not month_top else int(Decimal(m["signed"]["amount_cny"]) / month_top * 120)}
                  for m in summary["by_month"]]
    fairs_list, _ = fairs.list_fairs(actor, per_page=200)
    stall_form = StallLimitForm(formdata=None)
    stall_form.stage.choices = [(s.value, board.stage_label(s)) for s in STAGE_ORDER]
    base = {"fair_id": fair_id, "city": city}
    query_args = {k: v for k, v in {"from": period.first, "to": period.last, "city": city, "fair_id": fair_id}.items()
                  if v is not None}
    return render_template(
        "leads/dashboard.html",
        period=period,
        previous=period.year_before(),
        choice=choice,
        problems=problems,
        fair_id=fair_id,
        city=city,
        cities=[(c, n) for c, n in numbers.division_names(numbers.home_cities(), locale).items()],
        fairs=fairs_list,
        summary=summary,
        before=before,
        link=lambda counted, **extra: _number_link(period, counted, **{**base, **extra}),
        link_before=lambda counted, **extra: _number_link(period.year_before(), counted, **{**base, **extra}),
        large_usd=board.large_usd,
        counting_rule=exports.counting_rule_lines(),
        yi=board.yi,
        large_cny=board.large_cny,
        month_bars=month_bars,
        missing_rates=sorted(set(summary["missing_rates"]) | set(by_stage["missing_rates"])),
        stage_bars=_bars(stage_groups, board.stage_label),
        stage_totals=by_stage["totals"],
        funnel_bars=funnel_bars,
        chart_width=CHART_WIDTH,
        csv_url=url_for("leads_api.leads_csv", **{k: v for k, v in base.items() if v is not None}),
        xlsx_url=url_for("leads_api.province_workbook", **query_args),
        summary_url=url_for("leads_api.stats_summary", **query_args),
        rates=sorted((c, v) for c, v in queries.rates().items() if c != "CNY"),
        limits=queries.stall_limits(),
        rate_form=RateForm(formdata=None),
        stall_form=stall_form,
    )


@bp.route("/dashboard/rates", methods=["POST"])
@allow("organiser")
def set_rate():
    form = RateForm()

    def save() -> str:
        row = services.set_rate(current_user, (form.currency.data or "").strip().upper(),
                                _decimal_text(form.cny_per_unit.data))
        return gettext("1 %(currency)s = %(rate)s CNY is saved.", currency=row.currency,
                       rate=f"{row.cny_per_unit.normalize():f}")

    return post_form(form, save, url_for("leads.dashboard") + "#admin", invalid=gettext("Give a currency and a rate."))


@bp.route("/dashboard/stall-limits", methods=["POST"])
@allow("organiser")
def set_stall_limit():
    form = StallLimitForm()

    def save() -> str:
        services.set_stall_limit(current_user, form.stage.data, form.days.data)
        return ngettext("Leads in %(stage)s stall after %(num)d day.", "Leads in %(stage)s stall after %(num)d days.",
                        form.days.data, stage=board.stage_label(form.stage.data))

    return post_form(form, save, url_for("leads.dashboard") + "#admin",
                     invalid=gettext("Give a stage and a whole number of days."))


# ---------------------------------------------------------------- signing ceremonies and invitees


def _render_signings(session, form=None, status: int = 200):
    actor = current_user
    result = queries.signings_for(actor, session)
    if actor.role == "organiser" and session.kind == "signing" and session.status != "cancelled":
        form = form or SigningForm(formdata=None)
        form.lead_id.choices = [
            (lead.id, gettext("%(project)s · %(organisation)s (%(stage)s)", project=lead.project.title,
                              organisation=bilingual.plain(lead.organisation, "name"), stage=board.stage_label(lead.stage)))
            for lead in board.signable_leads(actor)
        ]
    else:
        form = None
    return render_template("leads/signings.html", session=session, signings=result["signings"],
                           visible=result["visible"], signing_open=queries.signing_open(session),
                           totals=result["total"], form=form,
                           max_upload_mb=storage.max_upload_bytes() // (1024 * 1024)), status


@bp.route("/sessions/<int:session_id>/signings")
@allow(USER)
def signings(session_id: int):
    return _render_signings(fairs.get_session(current_user, session_id))


@bp.route("/sessions/<int:session_id>/signings", methods=["POST"])
@allow("organiser")
@storage.accepts_upload
def record_signing(session_id: int):
    session = fairs.get_session(current_user, session_id)
    form = SigningForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            flash(gettext("The form expired; try again."), "error")
            return redirect(url_for("leads.signings", session_id=session_id))
        return _render_signings(session, form, 422)
    upload = request.files.get("file")
    has_file = upload is not None and bool(upload.filename)
    try:
        signing = services.record_signing(
            current_user, session_id,
            {"lead_id": form.lead_id.data, "amount": _decimal_text(form.amount.data) or None,
             "currency": (form.currency.data or "").strip().upper() or None},
            stream=upload.stream if has_file else None, filename=upload.filename if has_file else None,
        )
    except ValidationFailed as exc:
        for message in attach_errors(form, exc.fields):
            flash(message, "error")
        return _render_signings(session, form, 422)
    except ServiceError as exc:
        flash(_said(exc), "error")
        return redirect(url_for("leads.signings", session_id=session_id))
    flash(gettext("Signed: “%(project)s” with %(organisation)s, %(amount)s.", project=signing.lead.project.title,
                  organisation=bilingual.plain(signing.lead.organisation, "name"), amount=format_amount(signing.amount, signing.currency)),
          "success")
    return redirect(url_for("leads.signings", session_id=session_id))


@bp.route("/sessions/<int:session_id>/invitees")
@allow("organiser")
def invitees(session_id: int):
    session = fairs.get_session(current_user, session_id)
    from ..people.fair_invitations import tracking  # the invitations sent from this page (an adapter may use people)

    return render_template("leads/invitees.html", session=session, items=queries.invitees(current_user, session_id),
                           tracking=tracking(current_user, session.fair_id))


# ---------------------------------------------------------------- the demand profile


@bp.route("/me/organisation", methods=["GET", "POST"])
@allow("attendee")
def demand_profile():
    organisation = current_user.organisation
    form = DemandForm()
    form.demand_sectors.choices = [(s.code, s.name(ui_locale())) for s in list_sectors()]
    form.demand_countries.choices = country_choices(ui_locale())
    problems: list[str] = []
    if request.method == "GET":
        form.demand_sectors.data = list(organisation.demand_sectors or [])
        form.demand_countries.data = list(organisation.demand_countries or [])
        form.demand_note.data = organisation.demand_note or ""
    elif form.validate_on_submit():
        try:
            services.update_demand(current_user, organisation.id, {
                "demand_sectors": form.demand_sectors.data or [],
                "demand_countries": form.demand_countries.data or [],
                "demand_note": form.demand_note.data or "",
            })
        except ValidationFailed as exc:
            problems = attach_errors(form, exc.fields)
        else:
            flash(gettext("Your organisation's demand profile is saved; recommendations follow it."), "success")
            return redirect(url_for("leads.demand_profile"))
    status = 422 if form.errors or problems else 200
    return render_template("leads/demand.html", form=form, organisation=organisation, problems=problems), status
