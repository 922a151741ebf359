"""Write config/prompts/replay.txt: 5,000 distinct everyday prompts for the Stable Diffusion FIM and
generative replay set (the paper used 5,000 prompts from GPT-3.5; we compose our own).

Each prompt is a scene from one of eight themes (people doing things, animals, food, landscapes,
objects, interiors, vehicles, buildings) rendered in one medium (a photo, a watercolor, an oil
painting, ...). A theme's scenes are the combinations of its subjects, what they do and where; the
script draws a fixed share of each theme's scenes and a medium for each with a fixed seed, so the
file is the same on every run and machine. No named persons, nothing violent or sexual.

    python config/prompts/make_replay_prompts.py            # rewrites replay.txt beside this script
    python config/prompts/make_replay_prompts.py --check    # exit 1 if replay.txt differs
"""

from __future__ import annotations

import argparse
import random
import sys
from itertools import product
from pathlib import Path

SEED = 0
COUNT = 5000
OUT = Path(__file__).with_name("replay.txt")

# How a scene is rendered; "{}" is the scene. Photos dominate, as in everyday prompts.
MEDIA = [
    "a photo of {}", "a photo of {}", "a photo of {}", "{}", "{}", "a high quality photo of {}",
    "a close-up photo of {}", "a wide-angle photo of {}", "a black and white photo of {}",
    "a vintage photograph of {}", "a watercolor painting of {}", "an oil painting of {}",
    "a pencil sketch of {}", "a charcoal drawing of {}", "an illustration of {}",
    "a digital painting of {}", "{}, digital art", "{}, impressionist painting", "a pastel drawing of {}",
    "a children's book illustration of {}", "a postcard of {}", "{}, 35mm film photo",
    "a minimalist poster of {}", "{}, soft natural light", "a cinematic still of {}",
    "a linocut print of {}", "an acrylic painting of {}", "{}, ink drawing",
]

# ---- people doing things: (activity, places where it happens) ----
PEOPLE = [
    "a young woman", "an old man", "a little girl", "a little boy", "a teenage boy", "a teenage girl",
    "a middle-aged woman", "a grandfather", "a grandmother", "a young couple", "a group of friends",
    "a family", "two children", "a chef", "a gardener", "a street musician", "a fisherman", "a nurse",
    "a farmer", "a baker", "a carpenter", "a student", "a jogger", "a painter", "a mail carrier",
    "a shop owner", "a tourist", "a cyclist", "a businessman", "a college student", "a potter",
    "a florist", "a librarian", "a photographer", "a young father", "a mother and her daughter",
]
ACTIVITIES = [
    ("reading a book", ["in a park", "on a train", "by a window", "in a library", "on a porch", "at a cafe"]),
    ("riding a bicycle", ["along a canal", "on a country road", "through a city street", "in a park"]),
    ("drinking coffee", ["at a sidewalk cafe", "in a sunny kitchen", "on a balcony", "at a diner counter"]),
    ("walking a dog", ["in a park", "on a beach", "on a snowy street", "along a forest path"]),
    ("cooking dinner", ["in a small kitchen", "in a rustic kitchen", "at an outdoor grill", "in a modern kitchen"]),
    ("planting flowers", ["in a backyard garden", "in a window box", "in a community garden"]),
    ("flying a kite", ["on a windy beach", "in an open field", "on a hilltop"]),
    ("painting on an easel", ["in a sunlit studio", "by a lake", "in a city square", "in a meadow"]),
    ("playing the guitar", ["on a front porch", "around a campfire", "in a subway station", "in a living room"]),
    ("playing the piano", ["in a concert hall", "in a living room", "in a music school"]),
    ("shopping for vegetables", ["at a farmers market", "at a street market", "in a grocery store"]),
    ("hiking", ["in the mountains", "through a pine forest", "along a rocky coast", "in a canyon"]),
    ("having a picnic", ["in a park", "by a river", "under an oak tree", "on a hillside"]),
    ("building a sandcastle", ["on a sandy beach", "at the seaside"]),
    ("waiting for a bus", ["on a rainy street", "at a country bus stop", "in a busy city"]),
    ("baking bread", ["in a bakery", "in a farmhouse kitchen", "in a home kitchen"]),
    ("fishing", ["on a quiet lake", "from a wooden pier", "in a mountain river", "from a small boat"]),
    ("taking photographs", ["in a city square", "at a viewpoint", "in a flower garden", "at a harbor"]),
    ("doing yoga", ["on a beach at sunrise", "in a bright studio", "in a park", "on a rooftop"]),
    ("writing in a notebook", ["at a wooden desk", "in a cafe", "on a park bench", "by a fireplace"]),
    ("ice skating", ["on a frozen pond", "at an outdoor rink", "in a city plaza"]),
    ("feeding ducks", ["at a pond", "by a river", "in a city park"]),
    ("carrying groceries", ["up a flight of stairs", "down a city street", "to a parked car"]),
    ("sitting on a bench", ["in a park", "at a train station", "by the sea", "under a cherry tree"]),
    ("jogging", ["along a river path", "on a beach", "through a park", "on a city street"]),
    ("playing chess", ["in a park", "at a kitchen table", "in a cafe"]),
    ("watering plants", ["on a balcony", "in a greenhouse", "in a garden"]),
    ("laughing", ["at a dinner table", "on a city street", "in a park", "at a wedding"]),
    ("knitting a scarf", ["in an armchair", "by a fireplace", "on a porch"]),
    ("pouring tea", ["in a tea house", "in a garden", "at a kitchen table"]),
    ("skiing", ["down a snowy slope", "in the mountains"]),
    ("rowing a boat", ["on a calm lake", "on a river", "in a misty harbor"]),
    ("making pottery", ["in a workshop", "in a sunny studio"]),
    ("picking apples", ["in an orchard", "on a farm"]),
    ("selling flowers", ["at a street stall", "at a market", "in a small shop"]),
    ("looking at paintings", ["in an art museum", "in a gallery"]),
    ("sketching buildings", ["in an old town", "on a city bridge", "in a plaza"]),
    ("playing soccer", ["on a grass field", "on a dusty street", "in a schoolyard"]),
    ("eating ice cream", ["on a boardwalk", "in a park", "on a summer street"]),
    ("repairing a bicycle", ["in a garage", "on a sidewalk", "in a workshop"]),
    ("riding a horse", ["across a meadow", "along a beach", "on a mountain trail"]),
    ("camping", ["by a lake", "in a forest", "under the stars"]),
    ("sweeping leaves", ["in a backyard", "on a quiet street"]),
    ("wrapping presents", ["by a Christmas tree", "at a kitchen table"]),
]

# ---- animals: (animals, what they do, where) ----
ANIMALS = [
    (["a golden retriever", "a corgi", "a beagle", "a border collie", "a labrador puppy", "a dachshund",
      "a fluffy white dog", "a sleepy old dog"],
     ["sleeping", "running", "playing with a ball", "sitting", "lying"],
     ["on a sofa", "in a garden", "on a beach", "in the snow", "in a park", "on a porch", "by a fireplace"]),
    (["a tabby cat", "a black cat", "a ginger kitten", "a fluffy white cat", "a siamese cat", "a gray kitten"],
     ["sleeping", "sitting", "stretching", "playing with yarn", "curled up"],
     ["on a windowsill", "on a bookshelf", "in a sunbeam", "on a cozy blanket", "in a garden", "on a kitchen chair"]),
    (["a red fox", "a deer", "a brown bear", "a gray wolf", "a raccoon", "a squirrel", "a hedgehog", "a rabbit",
      "a moose", "an owl"],
     ["standing", "resting", "walking", "searching for food", "pausing"],
     ["in a snowy forest", "in a meadow", "by a stream", "among autumn leaves", "at the edge of a forest",
      "in tall grass"]),
    (["a horse", "a cow", "a flock of sheep", "a goat", "an alpaca", "a llama", "a donkey", "a herd of cows"],
     ["grazing", "standing", "resting", "walking"],
     ["on a green pasture", "by a red barn", "on a farm", "in a misty field", "near a wooden fence"]),
    (["an elephant", "a giraffe", "a herd of zebras", "a lion", "a cheetah", "a rhinoceros", "a family of elephants"],
     ["walking", "resting", "drinking water", "standing"],
     ["on the savanna", "at a watering hole", "under an acacia tree", "at sunset", "in the grasslands"]),
    (["a parrot", "a robin", "a hummingbird", "a kingfisher", "a blue jay", "a sparrow", "a pair of finches"],
     [""],
     ["perched on a branch", "sitting on a fence", "flying over a garden", "resting among flowers",
      "perched on a bird feeder", "on a snowy branch"]),
    (["a heron", "a pair of swans", "a flock of seagulls", "a flamingo", "a pelican", "a family of ducks"],
     [""],
     ["standing in shallow water", "flying over a lake", "resting by the shore", "wading near a pond",
      "gliding over the sea", "on a misty river"]),
    (["a sea turtle", "a dolphin", "a school of fish", "a humpback whale", "a seal", "an octopus", "a jellyfish"],
     ["swimming", "resting", "gliding"],
     ["in clear blue water", "near a coral reef", "in the open ocean", "near the surface", "along a rocky shore"]),
    (["a butterfly", "a honeybee", "a ladybug", "a dragonfly", "a snail", "a frog"],
     ["resting"],
     ["on a flower", "on a green leaf", "on a lily pad", "in the morning dew", "on a garden wall", "on a sunflower",
      "on a mossy stone"]),
]

# ---- food: dishes and how they are served ----
DISHES = [
    "a bowl of ramen", "a stack of pancakes", "a fresh green salad", "a slice of chocolate cake", "a margherita pizza",
    "a bowl of fruit", "a plate of sushi", "a cheeseburger and fries", "a bowl of tomato soup", "a loaf of sourdough bread",
    "a cup of cappuccino", "a plate of spaghetti", "a basket of croissants", "a bowl of oatmeal with berries",
    "a plate of tacos", "a pot of vegetable curry", "a strawberry tart", "a bowl of popcorn", "a plate of dumplings",
    "a glass of orange juice", "a cheese board", "a bowl of pho", "a plate of waffles", "a roast chicken",
    "a tray of cookies", "a bowl of rice and vegetables", "a pot of tea", "a plate of grilled fish",
    "a lemon meringue pie", "a bowl of cherries", "a sandwich on rye bread", "a bowl of cereal",
    "a plate of pasta with pesto", "an apple pie", "a cup of hot chocolate", "a plate of fried eggs and toast",
    "a bowl of guacamole", "a smoothie bowl", "a plate of macarons", "a bunch of bananas",
]
SERVINGS = [
    "on a wooden table", "on a white plate", "on a kitchen counter", "at a street food stall", "on a picnic blanket",
    "next to a window", "on a marble countertop", "in a small cafe", "on a checkered tablecloth", "on a rustic tray",
    "in a busy restaurant", "on a breakfast table", "on a garden table", "on a colorful ceramic plate",
]

# ---- landscapes ----
LANDSCAPES = [
    "a mountain lake", "a desert canyon", "rolling green hills", "a tall waterfall", "a lighthouse on a cliff",
    "a sandy beach", "a pine forest", "a field of sunflowers", "a snowy mountain range", "a quiet river valley",
    "a rice terrace", "a tropical island", "a lavender field", "a rocky coastline", "a frozen lake",
    "a bamboo forest", "a wheat field", "a volcano", "a glacier", "a marsh with reeds", "sand dunes",
    "a birch forest", "a fjord", "a country road through farmland", "a small pond with water lilies",
    "a mountain meadow with wildflowers", "a red rock desert", "a misty valley", "a vineyard on a hillside",
    "an autumn forest", "a palm-lined beach", "a canyon river", "a tulip field", "a windswept moor",
]
TIMES = [
    "at sunrise", "at sunset", "under a starry sky", "on a foggy morning", "in autumn", "in winter",
    "in spring", "after the rain", "under a full moon", "on a summer afternoon", "under dramatic clouds",
    "at dusk", "in the golden hour", "on a clear day", "during a light snowfall",
]

# ---- objects and where they stand ----
OBJECTS = [
    "an old typewriter", "a vintage camera", "a pair of red sneakers", "a ceramic vase with tulips", "a stack of books",
    "a wooden chess set", "a brass compass", "a pocket watch", "an acoustic guitar", "a leather backpack",
    "a pair of reading glasses", "a desk lamp", "a potted succulent", "a teapot", "a glass jar of honey",
    "a wicker basket", "a bouquet of roses", "an old map", "a set of paintbrushes", "a vinyl record player",
    "a wooden rocking chair", "a straw hat", "a bicycle bell", "a globe", "a retro radio", "a snow globe",
    "a handmade quilt", "a lantern", "a violin", "a pair of rain boots", "a seashell", "an hourglass",
    "a basket of yarn", "a wooden toy train", "a stack of colorful mugs", "a candle",
]
PLACEMENTS = [
    "on a wooden desk", "on a windowsill", "on a bookshelf", "on a kitchen table", "in soft morning light",
    "on a white background", "on a porch step", "in an antique shop", "on a picnic blanket", "on a stone wall",
    "by a fireplace", "on a nightstand", "in the sand", "on a garden bench",
]

# ---- interiors ----
ROOMS = [
    "a cozy living room", "a modern kitchen", "a rustic cabin interior", "a quiet library", "a small coffee shop",
    "a bright bedroom", "a home office", "a greenhouse", "a bakery", "a bookstore", "an artist's studio",
    "a farmhouse kitchen", "a hotel lobby", "a classroom", "a train station hall", "a music room",
    "a reading nook", "a dining room", "a flower shop", "a loft apartment", "a children's playroom",
    "a tea room", "a workshop", "a museum hall", "a sunroom", "a small bathroom with blue tiles",
    "a mountain lodge", "a bakery kitchen", "a cozy attic bedroom", "a ballet studio",
]
ROOM_DETAILS = [
    "with large windows", "filled with plants", "decorated for the holidays", "with wooden beams",
    "with a fireplace", "with shelves of books", "with warm lamps", "with white walls", "with a view of the sea",
    "with colorful rugs", "with vintage furniture", "on a rainy day", "in the afternoon sun", "at night",
]

# ---- vehicles: (vehicles, where) ----
VEHICLES = [
    (["a red vintage car", "a yellow school bus", "a steam train", "a blue pickup truck", "a vintage motorcycle",
      "a camper van", "a city tram", "a tractor", "a white convertible", "a bicycle with a basket",
      "a double-decker bus", "a taxi cab", "a fire engine", "a delivery truck", "a vintage scooter",
      "a food truck", "a horse-drawn carriage", "an electric car", "a green jeep", "a rusty old truck"],
     ["on a country road", "on a city street", "in front of a diner", "on a mountain pass", "crossing a bridge",
      "parked by the sea", "in the rain", "in a small village", "at a gas station", "on a snowy road",
      "on a desert highway", "under autumn trees"]),
    (["a sailboat", "a fishing boat", "a wooden canoe", "a ferry", "a rowing boat", "a small yacht", "a cargo ship",
      "a paddle steamer", "a kayak"],
     ["on a calm sea", "in a harbor", "on a misty lake", "at sunset", "near a lighthouse", "on a river",
      "by a wooden dock"]),
    (["a hot air balloon", "a small propeller plane", "a passenger jet", "a seaplane", "a red helicopter",
      "a glider"],
     ["above green fields", "over the mountains", "in a blue sky", "above the clouds", "over a coastal town",
      "at sunrise"]),
]

# ---- buildings and streets ----
BUILDINGS = [
    "a colorful row of houses", "a small stone church", "an old windmill", "a red barn", "a Japanese temple",
    "a tall skyscraper", "a wooden cabin", "a beach house", "a castle on a hill", "a busy city street",
    "a narrow cobblestone alley", "a covered bridge", "a harbor town", "a train station", "a glass greenhouse",
    "a farmhouse", "a lighthouse", "a village square", "a suspension bridge", "an old library building",
    "a treehouse", "a mountain village", "a canal with houseboats", "a Victorian house", "a white chapel",
    "a clock tower", "a row of shops", "a seaside pier", "a fishing village", "a greenhouse cafe",
]
BUILDING_SETTINGS = [
    "at night", "in the snow", "at sunset", "on a rainy evening", "in spring", "on a sunny morning",
    "in the fog", "in autumn", "under a blue sky", "lit by street lamps", "at dawn", "in summer",
    "after a storm", "at twilight",
]


def people_scenes() -> list[str]:
    return [f"{who} {what} {where}" for who, (what, places) in product(PEOPLE, ACTIVITIES) for where in places]


def animal_scenes() -> list[str]:
    return [" ".join(filter(None, parts)) for animals, acts, places in ANIMALS for parts in product(animals, acts, places)]


def food_scenes() -> list[str]:
    return [f"{d} {s}" for d, s in product(DISHES, SERVINGS)]


def landscape_scenes() -> list[str]:
    return [f"{land} {time}" for land, time in product(LANDSCAPES, TIMES)]


def object_scenes() -> list[str]:
    return [f"{o} {p}" for o, p in product(OBJECTS, PLACEMENTS)]


def interior_scenes() -> list[str]:
    return [f"{r} {d}" for r, d in product(ROOMS, ROOM_DETAILS)]


def vehicle_scenes() -> list[str]:
    return [f"{v} {where}" for vehicles, places in VEHICLES for v, where in product(vehicles, places)]


def building_scenes() -> list[str]:
    return [f"{b} {s}" for b, s in product(BUILDINGS, BUILDING_SETTINGS)]


# Theme -> (its scenes, how many prompts it contributes); the shares sum to COUNT.
THEMES = {
    "people": (people_scenes, 1800),
    "animals": (animal_scenes, 900),
    "food": (food_scenes, 450),
    "landscapes": (landscape_scenes, 450),
    "objects": (object_scenes, 400),
    "interiors": (interior_scenes, 350),
    "vehicles": (vehicle_scenes, 300),
    "buildings": (building_scenes, 350),
}


def make_prompts(count: int = COUNT, seed: int = SEED) -> list[str]:
    """The replay prompts: each theme's share of distinct scenes, each in a random medium, shuffled."""
    rng = random.Random(seed)
    shares = {name: share for name, (_, share) in THEMES.items()}
    assert sum(shares.values()) == count, "the themes' shares must add up to the prompt count"
    prompts = []
    for name, (scenes_of, share) in THEMES.items():
        scenes = sorted(set(scenes_of()))
        if len(scenes) < share:
            raise ValueError(f"theme {name} has {len(scenes)} scenes, fewer than its share {share}")
        prompts += [rng.choice(MEDIA).format(scene) for scene in rng.sample(scenes, share)]
    rng.shuffle(prompts)
    assert len(set(prompts)) == len(prompts) == count
    return prompts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that replay.txt is up to date")
    args = parser.parse_args(argv)
    text = "\n".join(make_prompts()) + "\n"
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.is_file() else ""
        if current != text:
            print(f"{OUT} is out of date: run python {Path(__file__).name}", file=sys.stderr)
            return 1
        print(f"{OUT} is up to date")
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {COUNT} prompts to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
