"""Names of the 80 COCO classes the detector knows, with English and Russian number forms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Gender = Literal["m", "f", "n", "pl"]


@dataclass(frozen=True)
class Noun:
    """One object class: English singular/plural; Russian forms for 1 / 2-4 / 5+ (nominative) and gender."""

    en_one: str
    en_many: str
    ru_one: str
    ru_few: str
    ru_many: str
    gender: Gender


def _n(en_one: str, en_many: str, ru_one: str, ru_few: str, ru_many: str, gender: Gender) -> Noun:
    return Noun(en_one, en_many, ru_one, ru_few, ru_many, gender)


#: In the detector's class order (COCO-80). "pl" marks Russian plural-only nouns (часы, ножницы).
COCO: tuple[Noun, ...] = (
    _n("person", "people", "человек", "человека", "человек", "m"),
    _n("bicycle", "bicycles", "велосипед", "велосипеда", "велосипедов", "m"),
    _n("car", "cars", "машина", "машины", "машин", "f"),
    _n("motorcycle", "motorcycles", "мотоцикл", "мотоцикла", "мотоциклов", "m"),
    _n("aeroplane", "aeroplanes", "самолёт", "самолёта", "самолётов", "m"),
    _n("bus", "buses", "автобус", "автобуса", "автобусов", "m"),
    _n("train", "trains", "поезд", "поезда", "поездов", "m"),
    _n("truck", "trucks", "грузовик", "грузовика", "грузовиков", "m"),
    _n("boat", "boats", "лодка", "лодки", "лодок", "f"),
    _n("traffic light", "traffic lights", "светофор", "светофора", "светофоров", "m"),
    _n("fire hydrant", "fire hydrants", "пожарный гидрант", "пожарных гидранта", "пожарных гидрантов", "m"),
    _n("stop sign", "stop signs", "знак «стоп»", "знака «стоп»", "знаков «стоп»", "m"),
    _n("parking meter", "parking meters", "паркомат", "паркомата", "паркоматов", "m"),
    _n("bench", "benches", "скамейка", "скамейки", "скамеек", "f"),
    _n("bird", "birds", "птица", "птицы", "птиц", "f"),
    _n("cat", "cats", "кошка", "кошки", "кошек", "f"),
    _n("dog", "dogs", "собака", "собаки", "собак", "f"),
    _n("horse", "horses", "лошадь", "лошади", "лошадей", "f"),
    _n("sheep", "sheep", "овца", "овцы", "овец", "f"),
    _n("cow", "cows", "корова", "коровы", "коров", "f"),
    _n("elephant", "elephants", "слон", "слона", "слонов", "m"),
    _n("bear", "bears", "медведь", "медведя", "медведей", "m"),
    _n("zebra", "zebras", "зебра", "зебры", "зебр", "f"),
    _n("giraffe", "giraffes", "жираф", "жирафа", "жирафов", "m"),
    _n("backpack", "backpacks", "рюкзак", "рюкзака", "рюкзаков", "m"),
    _n("umbrella", "umbrellas", "зонт", "зонта", "зонтов", "m"),
    _n("handbag", "handbags", "сумка", "сумки", "сумок", "f"),
    _n("tie", "ties", "галстук", "галстука", "галстуков", "m"),
    _n("suitcase", "suitcases", "чемодан", "чемодана", "чемоданов", "m"),
    _n("frisbee", "frisbees", "диск фрисби", "диска фрисби", "дисков фрисби", "m"),
    _n("pair of skis", "pairs of skis", "лыжа", "лыжи", "лыж", "f"),
    _n("snowboard", "snowboards", "сноуборд", "сноуборда", "сноубордов", "m"),
    _n("ball", "balls", "мяч", "мяча", "мячей", "m"),
    _n("kite", "kites", "воздушный змей", "воздушных змея", "воздушных змеев", "m"),
    _n("baseball bat", "baseball bats", "бейсбольная бита", "бейсбольные биты", "бейсбольных бит", "f"),
    _n(
        "baseball glove",
        "baseball gloves",
        "бейсбольная перчатка",
        "бейсбольные перчатки",
        "бейсбольных перчаток",
        "f",
    ),
    _n("skateboard", "skateboards", "скейтборд", "скейтборда", "скейтбордов", "m"),
    _n("surfboard", "surfboards", "доска для сёрфинга", "доски для сёрфинга", "досок для сёрфинга", "f"),
    _n("tennis racket", "tennis rackets", "теннисная ракетка", "теннисные ракетки", "теннисных ракеток", "f"),
    _n("bottle", "bottles", "бутылка", "бутылки", "бутылок", "f"),
    _n("wine glass", "wine glasses", "бокал", "бокала", "бокалов", "m"),
    _n("cup", "cups", "чашка", "чашки", "чашек", "f"),
    _n("fork", "forks", "вилка", "вилки", "вилок", "f"),
    _n("knife", "knives", "нож", "ножа", "ножей", "m"),
    _n("spoon", "spoons", "ложка", "ложки", "ложек", "f"),
    _n("bowl", "bowls", "миска", "миски", "мисок", "f"),
    _n("banana", "bananas", "банан", "банана", "бананов", "m"),
    _n("apple", "apples", "яблоко", "яблока", "яблок", "n"),
    _n("sandwich", "sandwiches", "бутерброд", "бутерброда", "бутербродов", "m"),
    _n("orange", "oranges", "апельсин", "апельсина", "апельсинов", "m"),
    _n("broccoli", "heads of broccoli", "кочан брокколи", "кочана брокколи", "кочанов брокколи", "m"),
    _n("carrot", "carrots", "морковка", "морковки", "морковок", "f"),
    _n("hot dog", "hot dogs", "хот-дог", "хот-дога", "хот-догов", "m"),
    _n("pizza", "pizzas", "пицца", "пиццы", "пицц", "f"),
    _n("doughnut", "doughnuts", "пончик", "пончика", "пончиков", "m"),
    _n("cake", "cakes", "торт", "торта", "тортов", "m"),
    _n("chair", "chairs", "стул", "стула", "стульев", "m"),
    _n("sofa", "sofas", "диван", "дивана", "диванов", "m"),
    _n(
        "potted plant", "potted plants", "комнатное растение", "комнатных растения", "комнатных растений", "n"
    ),
    _n("bed", "beds", "кровать", "кровати", "кроватей", "f"),
    _n("table", "tables", "стол", "стола", "столов", "m"),
    _n("toilet", "toilets", "унитаз", "унитаза", "унитазов", "m"),
    _n("TV", "TVs", "телевизор", "телевизора", "телевизоров", "m"),
    _n("laptop", "laptops", "ноутбук", "ноутбука", "ноутбуков", "m"),
    _n(
        "computer mouse", "computer mice", "компьютерная мышь", "компьютерные мыши", "компьютерных мышей", "f"
    ),
    _n("remote control", "remote controls", "пульт", "пульта", "пультов", "m"),
    _n("keyboard", "keyboards", "клавиатура", "клавиатуры", "клавиатур", "f"),
    _n("phone", "phones", "телефон", "телефона", "телефонов", "m"),
    _n("microwave", "microwaves", "микроволновка", "микроволновки", "микроволновок", "f"),
    _n("oven", "ovens", "духовка", "духовки", "духовок", "f"),
    _n("toaster", "toasters", "тостер", "тостера", "тостеров", "m"),
    _n("sink", "sinks", "раковина", "раковины", "раковин", "f"),
    _n("fridge", "fridges", "холодильник", "холодильника", "холодильников", "m"),
    _n("book", "books", "книга", "книги", "книг", "f"),
    _n("clock", "clocks", "часы", "часов", "часов", "pl"),
    _n("vase", "vases", "ваза", "вазы", "ваз", "f"),
    _n("pair of scissors", "pairs of scissors", "ножницы", "ножниц", "ножниц", "pl"),
    _n("teddy bear", "teddy bears", "плюшевый мишка", "плюшевых мишки", "плюшевых мишек", "m"),
    _n("hair dryer", "hair dryers", "фен", "фена", "фенов", "m"),
    _n("toothbrush", "toothbrushes", "зубная щётка", "зубные щётки", "зубных щёток", "f"),
)
