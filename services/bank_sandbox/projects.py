"""Borrowers' projects: CREATE_PROJECT and MODIFY_PROJECT (docs/bank_sandbox.md, "Transaction services").

A project belongs to its borrower, a depository user; it raises money by TENDER freezes while
COLLECTING or FULLY, never more than its amount, and it is repaid through its borrower's REPAYMENT
freezes. Its status moves forward only: COLLECTING and FULLY (either way) -> REPAYING -> CLEARED, or
COLLECTING / FULLY -> MISCARRY.
"""
from shared.contract import CLEARED, COLLECTING, FULLY, MISCARRY, REPAYING

from bank_sandbox.repository import projects, users
from bank_sandbox.service_requests import ServiceRequest
from bank_sandbox.service_results import bad_parameters

RAISING = (COLLECTING, FULLY)  # the statuses in which a project takes tenders and loans
NEXT_STATUSES = {COLLECTING: {FULLY, REPAYING, MISCARRY}, FULLY: {COLLECTING, REPAYING, MISCARRY},
                 REPAYING: {CLEARED}, MISCARRY: set(), CLEARED: set()}


def create(conn, config: dict, request: ServiceRequest) -> None:
    """A new project, COLLECTING, for a depository user; its projectNo must be new."""
    fields = request.fields
    if users.get(conn, fields["userNo"]) is None:
        raise bad_parameters(f"userNo {fields['userNo']} has no depository account")
    created = projects.insert_if_new(conn, request.request_no, {
        "project_no": fields["projectNo"], "user_no": fields["userNo"], "project_amount": fields["projectAmount"],
        "project_name": fields["projectName"], "project_period": fields["projectPeriod"],
        "annual_rate": fields["annualRate"], "repayment_way": fields["repaymentWay"]})
    if not created:
        raise bad_parameters(f"projectNo {fields['projectNo']} already exists")


def modify(conn, config: dict, request: ServiceRequest) -> None:
    """Set a project's status (the same status again changes nothing)."""
    fields = request.fields
    project = projects.lock(conn, fields["projectNo"])
    if project is None:
        raise bad_parameters(f"unknown projectNo {fields['projectNo']}")
    wanted = fields["projectStatus"]
    if wanted != project["status"] and wanted not in NEXT_STATUSES[project["status"]]:
        raise bad_parameters(f"project {project['project_no']} is {project['status']}: it cannot become {wanted}")
    projects.set_status(conn, project["project_no"], wanted)


def known(conn, project_no: str, lock: bool = False) -> dict:
    """The project ``project_no`` (locked when asked); 00003 when there is none."""
    project = (projects.lock if lock else projects.get)(conn, project_no)
    if project is None:
        raise bad_parameters(f"unknown projectNo {project_no}: create the project first")
    return project


def check_raising(project: dict) -> None:
    """A project takes tenders and loans only while COLLECTING or FULLY (00003 otherwise)."""
    if project["status"] not in RAISING:
        raise bad_parameters(f"project {project['project_no']} is {project['status']}: it raises no money")
