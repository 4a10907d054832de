"""A faithful local stand-in for the LNHM plants API.

Python API: ``simulator.model.PlantsSimulator(SimulatorConfig(...)).respond(plant_id, at)`` and
``simulator.clock.Clock``; HTTP: ``python -m harness.simulator --help``. See simulator/README.md.
"""
