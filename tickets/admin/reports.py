"""The supervisors' report page, its export, and the export of the queue as it is filtered.

Plain functions taking the TicketAdmin (registered in its get_urls), like conversation.py.
Supervisors (permission ``tickets.view_reports``) see everything and export; an agent who
opens the page sees only their own workload, and exports nothing. Every export leaves a
row in the access log (tickets/exports.py): the queue lists requesters' names and e-mails.
"""

from django import forms
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tickets import charts, exports, reports
from tickets.business_calendar import TIME_ZONE
from tickets.models import Category, Region
from tickets.spreadsheets import csv_rows, xlsx_file

from .forms import StaffChoiceField, staff_users

REPORT_PERMISSION = "tickets.view_reports"
FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Ten years of figures are still a handful of aggregates, but a typo ("2206") is not a report.
MAX_DAYS = 3660


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class ReportForm(forms.Form):
    """The report's filters, read from the query string; every field may be left empty."""

    desde = forms.DateField(
        label=_("Desde"), required=False, widget=DateInput(), input_formats=["%Y-%m-%d", "%d-%m-%Y"]
    )
    hasta = forms.DateField(
        label=_("Hasta"), required=False, widget=DateInput(), input_formats=["%Y-%m-%d", "%d-%m-%Y"]
    )
    region = forms.ModelChoiceField(
        Region.objects.all(), label=_("Región"), required=False, empty_label=_("Todas")
    )
    categoria = forms.ModelChoiceField(
        Category.objects.all(), label=_("Categoría"), required=False, empty_label=_("Todas")
    )
    agente = StaffChoiceField(
        staff_users(), label=_("Agente asignado"), required=False, empty_label=_("Todos")
    )

    def __init__(self, *args, supervisor: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not supervisor:
            # An agent's page is their own workload: nothing to filter but the dates.
            for name in ("region", "categoria", "agente"):
                del self.fields[name]

    def clean(self):
        d = super().clean()
        today = timezone.localdate(timezone=TIME_ZONE)
        start, end = d.get("desde"), d.get("hasta")
        if "desde" in self.errors or "hasta" in self.errors:
            return d
        end = end or today
        start = start or end.replace(day=1)
        if start > end:
            self.add_error(
                "hasta", gettext("La fecha «Hasta» debe ser igual o posterior a «Desde».")
            )
        elif (end - start).days >= MAX_DAYS:
            self.add_error("desde", gettext("Elija un período de a lo más diez años."))
        d["desde"], d["hasta"] = start, end
        return d

    def scope(self) -> reports.Scope:
        d = self.cleaned_data
        return reports.Scope(
            start=d["desde"],
            end=d["hasta"],
            region=d.get("region"),
            category=d.get("categoria"),
            agent=d.get("agente"),
        )

    def description(self) -> str:
        """The filters in words, for the access log and the file name's reader."""
        d = self.cleaned_data
        parts = [f"{d['desde']:%Y-%m-%d} – {d['hasta']:%Y-%m-%d}"]
        for name in ("region", "categoria", "agente"):
            if d.get(name) is not None:
                parts.append(
                    f"{self.fields[name].label}: {self.fields[name].label_from_instance(d[name])}"
                )
        return ", ".join(parts)


def is_supervisor(request) -> bool:
    return request.user.has_perm(REPORT_PERMISSION)


def _figures(form, request, supervisor: bool) -> dict:
    scope = form.scope()
    if supervisor:
        return reports.supervisor_figures(scope)
    return {"workload": reports.workload(scope, person=request.user)}


# --- the page ---------------------------------------------------------------------------------
def report_view(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    supervisor = is_supervisor(request)
    # The boxes show the dates the figures are for, not empty boxes, on the first visit.
    data = request.GET.copy()
    today = timezone.localdate(timezone=TIME_ZONE)
    data.setdefault("hasta", today.isoformat())
    data.setdefault("desde", today.replace(day=1).isoformat())
    form = ReportForm(data, supervisor=supervisor)
    ctx = {
        **model_admin.admin_site.each_context(request),
        "title": gettext("Informes") if supervisor else gettext("Mi carga de trabajo"),
        "opts": model_admin.opts,
        "form": form,
        "supervisor": supervisor,
        "has_view_permission": True,
    }
    if form.is_valid():
        figures = _figures(form, request, supervisor)
        tables = reports.tables(figures)
        query = request.GET.urlencode()
        ctx.update(
            scope=form.scope(),
            tables=tables,
            charts=_charts(figures, tables),
            export_urls={
                fmt: reverse("admin:tickets_ticket_report_export", args=[fmt])
                + (f"?{query}" if query else "")
                for fmt in FORMATS
            },
        )
    return TemplateResponse(request, "admin/tickets/report.html", ctx)


def _percent(value) -> str:
    return "—" if value is None else f"{number_format(value, decimal_pos=1)} %"


def _charts(figures: dict, tables: dict) -> dict:
    out = {}
    service = figures.get("service")
    if service is not None:
        out["service_region"] = charts.horizontal_bars(
            [
                (name, pct, f"{_percent(pct)} ({within}/{answered})")
                for name, answered, within, pct in service["by_region"]
            ],
            maximum=100,
        )
        out["service_month"] = charts.horizontal_bars(
            [
                (date_format(month, "YEAR_MONTH_FORMAT"), pct, f"{_percent(pct)} ({w}/{a})")
                for month, a, w, pct in service["by_month"]
            ],
            maximum=100,
        )
    now = figures.get("now")
    if now is not None:
        out["now_by_status"] = charts.horizontal_bars(
            [(str(label), n, number_format(n)) for label, n in now["by_status"]]
        )
    if figures.get("trends") is not None:
        out["weeks"] = charts.paired_columns(figures["trends"]["weeks"])
    return out


# --- exports ----------------------------------------------------------------------------------
def _filename(stem: str, fmt: str) -> str:
    stamp = timezone.localtime(timezone.now(), TIME_ZONE).strftime("%Y%m%d-%H%M")
    return f"{stem}-{stamp}.{fmt}"


def _spreadsheet_response(fmt: str, stem: str, sheets) -> FileResponse | StreamingHttpResponse:
    """CSV: streamed as it is written. XLSX: written to a temporary file, then streamed."""
    if fmt == "csv":
        response = StreamingHttpResponse(
            (line for _name, header, rows in sheets for line in csv_rows(header, rows)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{_filename(stem, fmt)}"'
    else:
        response = FileResponse(
            xlsx_file(sheets),
            as_attachment=True,
            filename=_filename(stem, fmt),
            content_type=XLSX_TYPE,
        )
    response["Cache-Control"] = "private, no-store"
    return response


def _csv_sections(tables):
    """All tables in one CSV: each under a row with its title, a blank row between them."""
    for table in tables:
        yield [table.caption]
        yield table.headers
        yield from table.rows
        yield []


def report_export_view(model_admin, request, fmt):
    if fmt not in FORMATS:
        raise Http404
    if not is_supervisor(request):
        raise PermissionDenied
    form = ReportForm(request.GET)
    if not form.is_valid():
        return redirect(reverse("admin:tickets_ticket_report") + "?" + request.GET.urlencode())
    tables = list(reports.tables(_figures(form, request, True)).values())
    exports.record_export(
        request,
        gettext("Informe (%(fmt)s): %(what)s") % {"fmt": fmt.upper(), "what": form.description()},
    )
    if fmt == "csv":
        # One file, so the sections follow one another; the header row is the first title.
        rows = list(_csv_sections(tables))
        sheets = [("", rows[0], rows[1:])]
    else:
        sheets = reports.table_sheets(tables)
    return _spreadsheet_response(fmt, "informe-mesa-de-ayuda", sheets)


def queue_export_view(model_admin, request, fmt):
    """The queue with the filters, search and order of the page it was asked from, every page."""
    if fmt not in FORMATS:
        raise Http404
    if not is_supervisor(request):
        raise PermissionDenied
    try:
        cl = model_admin.get_changelist_instance(request)
    except IncorrectLookupParameters:
        return redirect(reverse("admin:tickets_ticket_changelist") + "?e=1")
    q = cl.queryset
    query = request.GET.urlencode() or gettext("sin filtros (abiertos)")
    exports.record_export(
        request,
        gettext("Cola de tickets (%(fmt)s): %(query)s") % {"fmt": fmt.upper(), "query": query},
        rows=q.count(),
    )
    sheets = [(gettext("Tickets"), exports.queue_header(), exports.queue_rows(q))]
    return _spreadsheet_response(fmt, "tickets", sheets)
