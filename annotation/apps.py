from __future__ import annotations

from django.apps import AppConfig

COORDINATOR_PERMISSIONS = [
    "annotation.view_study",
    "annotation.add_study",
    "annotation.change_study",
    "annotation.export_study",
    "annotation.pay_bonus",
    "annotation.view_studypersona",
    "annotation.view_slot",
    "annotation.add_slot",
    "annotation.view_question",
    "annotation.view_participant",
    "annotation.change_participant",
    "annotation.view_answer",
    "annotation.view_bonuspayment",
    "annotation.add_bonuspayment",
    "annotation.view_reportsnapshot",
    "benchmarks.view_prompt",
    "benchmarks.view_preferencepair",
    "benchmarks.add_preferencepair",
]
ANALYST_PERMISSIONS = [
    "annotation.view_study",
    "annotation.export_study",
    "annotation.view_studypersona",
    "annotation.view_question",
    "annotation.view_participant",
    "annotation.view_answer",
    "annotation.view_reportsnapshot",
    "benchmarks.view_prompt",
    "benchmarks.view_preferencepair",
]


class AnnotationConfig(AppConfig):
    name = "annotation"
    verbose_name = "Annotation studies"

    def ready(self) -> None:
        from annotation.demo import annotation_demo_ensure
        from annotation.precision.recruitment import recruitment_connect
        from annotation.prolific.recruitment import ProlificRecruitment
        from annotation.reports.demo import report_demo_ensure
        from core.demo import DEMO_STEPS
        from core.navigation import nav_register
        from core.roles import ANALYST, COORDINATOR, role_permissions_register

        # The one declaration of these roles' permissions: core's post_migrate receiver (roles_sync) applies it after
        # every migrate and every test-database flush; the 0003_roles migrations are empty placeholders now.
        role_permissions_register(COORDINATOR, COORDINATOR_PERMISSIONS)
        # The precision panel's cost, time to fill and raised places come from Prolific (each says when not connected).
        recruitment_connect(ProlificRecruitment())
        role_permissions_register(ANALYST, ANALYST_PERMISSIONS)
        nav_register("Studies", "study-list", permission="annotation.view_study", order=30)
        if annotation_demo_ensure not in DEMO_STEPS:
            DEMO_STEPS.append(annotation_demo_ensure)
        # After the personas and annotation steps (annotation is the last app): judges and a report on them.
        if report_demo_ensure not in DEMO_STEPS:
            DEMO_STEPS.append(report_demo_ensure)
