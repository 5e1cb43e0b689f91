"""Word lists for synthetic schools, players and venues (plain ASCII, JSON-safe: no quotes)."""

from __future__ import annotations

__all__ = ["CONFERENCES", "FIRST_NAMES", "LAST_NAMES", "MASCOTS", "PLACES", "STATES"]


def _words(text: str) -> tuple[str, ...]:
    """Split a comma-separated list; an item may contain spaces and wrap across lines."""
    return tuple(" ".join(w.split()) for w in text.split(",") if w.strip())


#: (id, abbreviation used on the wire, full name): the 32 D-I conferences.
CONFERENCES: tuple[tuple[int, str, str], ...] = (
    (1, "ACC", "Atlantic Coast Conference"),
    (2, "A-10", "Atlantic 10 Conference"),
    (3, "AAC", "American Athletic Conference"),
    (4, "America East", "America East Conference"),
    (5, "ASUN", "ASUN Conference"),
    (6, "Big 12", "Big 12 Conference"),
    (7, "Big East", "Big East Conference"),
    (8, "Big Sky", "Big Sky Conference"),
    (9, "Big South", "Big South Conference"),
    (10, "Big Ten", "Big Ten Conference"),
    (11, "Big West", "Big West Conference"),
    (12, "CAA", "Coastal Athletic Association"),
    (13, "CUSA", "Conference USA"),
    (14, "Horizon", "Horizon League"),
    (15, "Ivy", "Ivy League"),
    (16, "MAAC", "Metro Atlantic Athletic Conference"),
    (17, "MAC", "Mid-American Conference"),
    (18, "MEAC", "Mid-Eastern Athletic Conference"),
    (19, "MVC", "Missouri Valley Conference"),
    (20, "MWC", "Mountain West Conference"),
    (21, "NEC", "Northeast Conference"),
    (22, "OVC", "Ohio Valley Conference"),
    (23, "Pac-12", "Pac-12 Conference"),
    (24, "Patriot", "Patriot League"),
    (25, "SEC", "Southeastern Conference"),
    (26, "SoCon", "Southern Conference"),
    (27, "Southland", "Southland Conference"),
    (28, "Summit", "Summit League"),
    (29, "Sun Belt", "Sun Belt Conference"),
    (30, "SWAC", "Southwestern Athletic Conference"),
    (31, "WAC", "Western Athletic Conference"),
    (32, "WCC", "West Coast Conference"),
)


PLACES: tuple[str, ...] = _words(
    """
Ashford, Bayview, Belmont Hills, Birchwood, Blue Ridge, Boulder Creek, Bramble, Brookhaven,
Cedar Falls, Centerville, Chester, Clearwater, Cliffside, Coldwater, Copper Hill, Crestview,
Cypress, Dalton, Deer Park, Eastbrook, Elm Grove, Fairhaven, Falcon Ridge, Fernwood, Fox Run,
Franklin, Glenwood, Golden Valley, Granite, Greenfield, Harbor, Hartwell, Hawthorne, Highland,
Hillcrest, Holloway, Ironwood, Juniper, Kingsport, Lakeshore, Laurel, Lexington Falls, Lincoln
Park, Maple Grove, Marshall, Meadowbrook, Midland, Millbrook, Mohave, Montclair, Mountain View,
New Albany, Northgate, Oak Ridge, Oceanside, Old Mill, Orchard, Palisade, Pine Bluff, Pinecrest,
Plainview, Port Royal, Prairie, Quarry, Ravenwood, Red Rock, Ridgeway, Riverside, Rockport,
Rosewood, Saddleback, Salem, Sandpoint, Shadow Lake, Silver Lake, Springdale, Stonebridge,
Summit Ridge, Sunnyvale, Sycamore, Tidewater, Timberline, Union City, Valley Forge, Westbrook,
Westfield, Whitewater, Willow Creek, Windsor, Woodland, Yellow Pine, Alder, Aspen, Bancroft,
Beacon, Carver, Coral Bay, Delmar, Easton, Frontier, Garrison, Hampton Bay, Heron Point, Iron
Bridge, Keystone, Lancaster Hill, Liberty, Magnolia, Newport Ridge, Northwood, Overton,
Parkside, Redwood, Seabrook, Southport, Tamarack, Thornton, Vista, Wakefield, Wolf Creek,
Yorktown
"""
)

MASCOTS: tuple[str, ...] = _words(
    """
Eagles, Hawks, Tigers, Bears, Wildcats, Bulldogs, Panthers, Lions, Falcons, Owls, Rams, Broncos,
Mustangs, Huskies, Cougars, Knights, Pioneers, Rebels, Spartans, Titans, Raiders, Hornets,
Wolves, Bobcats, Cardinals, Comets, Dragons, Flames, Gators, Jaguars, Lancers, Mavericks,
Ospreys, Pirates, Redhawks, Seahawks, Stags, Thunder, Vikings, Warriors
"""
)

FIRST_NAMES: tuple[str, ...] = _words(
    """
Aaron, Adrian, Alex, Andre, Anthony, Austin, Ben, Brandon, Caleb, Cameron, Carter, Chris, Cole,
Connor, Darius, David, Derek, Devin, Dylan, Eli, Ethan, Evan, Gabe, Grant, Isaac, Isaiah, Jalen,
Jamal, James, Jared, Jaylen, Jordan, Josh, Julian, Justin, Kameron, Keith, Kevin, Kyle, Lamar,
Liam, Logan, Malik, Marcus, Mason, Matt, Miles, Nate, Nick, Noah, Omar, Owen, Quinn, Reggie,
Ryan, Sam, Terrence, Trey, Tyler, Zach
"""
)

LAST_NAMES: tuple[str, ...] = _words(
    """
Adams, Allen, Bailey, Baker, Banks, Bell, Brooks, Brown, Bryant, Carter, Clark, Coleman,
Collins, Cooper, Davis, Diaz, Edwards, Ellis, Evans, Fisher, Foster, Garcia, Gibson, Graham,
Grant, Gray, Green, Griffin, Hall, Harris, Hayes, Henderson, Hill, Holmes, Howard, Hughes,
Jackson, James, Jenkins, Johnson, Jones, Kelly, King, Lewis, Long, Martin, Mason, McCoy, Miller,
Mitchell, Moore, Morgan, Morris, Murphy, Nelson, O'Brien, Owens, Parker, Perry, Peterson,
Phillips, Porter, Powell, Price, Reed, Reynolds, Richardson, Roberts, Robinson, Rogers, Ross,
Russell, Sanders, Scott, Simmons, Smith, Stewart, Sullivan, Taylor, Thomas, Thompson, Tucker,
Turner, Walker, Wallace, Ward, Washington, Watson, White, Williams, Wilson, Wood, Wright, Young
"""
)

STATES: tuple[str, ...] = _words(
    """
AL, AZ, AR, CA, CO, CT, DE, FL, GA, ID, IL, IN, IA, KS, KY, LA, ME, MD, MA, MI, MN, MS, MO, MT,
NE, NV, NH, NJ, NM, NY, NC, ND, OH, OK, OR, PA, RI, SC, SD, TN, TX, UT, VT, VA, WA, WV, WI, WY
"""
)
