# Built-in routine: the quick daily massage (1-2 minutes) with the key steps of the guide.
TEXT = """{
  "format": 1,
  "name": "daily",
  "title": "Daily quick massage",
  "intensity": 55,
  "rounds": 2,
  "breath": {"first_ms": 2800, "last_ms": 3200},
  "color": [255, 110, 40],
  "steps": [
    {"name": "Chin to ear, press the point 3 times", "zone": "jaw", "direction": "up",
     "reps": 3, "moves": ["glide", "press", "press", "press", "glide"]},
    {"name": "Along the cheekbone to the earlobe", "zone": "cheekbone",
     "direction": "outward", "reps": 3},
    {"name": "Out from the centre of the forehead", "zone": "forehead",
     "direction": "outward", "reps": 3},
    {"name": "Neck, stroke upward", "zone": "neck", "direction": "up", "reps": 3},
    {"name": "Eye zone, press the points", "zone": "eyes", "direction": "around",
     "reps": 3, "intensity": 40, "moves": ["press", "glide", "press", "glide"]}
  ]
}"""
