# Built-in routine: the full weekly massage from the seed guide, all 10 steps.
# Kept as JSON text (the same format as user routines) inside a module so it can be
# frozen into flash; the validator checks it like any other routine.
TEXT = """{
  "format": 1,
  "name": "weekly",
  "title": "Weekly full massage",
  "intensity": 60,
  "rounds": 6,
  "breath": {"first_ms": 3000, "last_ms": 4000},
  "press": {"intensity": 80, "on_ms": 220, "off_ms": 160},
  "color": [255, 60, 140],
  "steps": [
    {"name": "Chin to ear, press the point 3 times", "zone": "jaw", "direction": "up",
     "reps": 3, "moves": ["glide", "press", "press", "press", "glide"]},
    {"name": "Along the cheekbone to the earlobe", "zone": "cheekbone",
     "direction": "outward", "reps": 4},
    {"name": "Out from the centre of the forehead", "zone": "forehead",
     "direction": "outward", "reps": 4},
    {"name": "Lower lip up to the earlobe", "zone": "lower-lip", "direction": "up",
     "reps": 3},
    {"name": "Along the sides of the nose", "zone": "nose", "direction": "along",
     "reps": 3},
    {"name": "Around the nostrils", "zone": "nostrils", "direction": "around", "reps": 3},
    {"name": "Upper lip, lift along the cheekbone", "zone": "upper-lip",
     "direction": "up-outward", "reps": 3},
    {"name": "Ear, thumb and index finger", "zone": "ear", "direction": "around",
     "reps": 3, "intensity": 45},
    {"name": "Neck, stroke upward", "zone": "neck", "direction": "up", "reps": 4},
    {"name": "Eye zone, press the points", "zone": "eyes", "direction": "around",
     "reps": 3, "intensity": 40, "moves": ["press", "glide", "press", "glide"]}
  ]
}"""
