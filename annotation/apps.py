from __future__ import annotations

from django.apps import AppConfig


class AnnotationConfig(AppConfig):
    name = "annotation"
    verbose_name = "Annotation studies"

    def ready(self) -> None:
        from annotation.demo import annotation_demo_ensure
        from core.demo import DEMO_STEPS
        from core.navigation import nav_register

        nav_register("Studies", "study-list", permission="annotation.view_study", order=30)
        if annotation_demo_ensure not in DEMO_STEPS:
            DEMO_STEPS.append(annotation_demo_ensure)
