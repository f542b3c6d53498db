from __future__ import annotations

from django.apps import AppConfig


class PersonasConfig(AppConfig):
    name = "personas"
    verbose_name = "Personas"

    def ready(self) -> None:
        from core.demo import DEMO_STEPS
        from core.navigation import nav_register
        from personas.demo import demo_personas_ensure

        nav_register("Personas", "persona-list", permission="personas.view_persona", order=20)
        nav_register("Census comparison", "census-comparison", permission="personas.view_censusdataset", order=21)
        if demo_personas_ensure not in DEMO_STEPS:
            DEMO_STEPS.append(demo_personas_ensure)
