// The overview's map of locations: a circle per location, coloured by what
// its chargers can offer now, redrawn when the map section is refreshed.
"use strict";

(() => {
  const element = document.getElementById("location-map");
  if (!element) return;
  const tiles = JSON.parse(document.getElementById("map-tiles").textContent);
  const map = L.map(element, { scrollWheelZoom: false });
  if (tiles.url) L.tileLayer(tiles.url, { attribution: tiles.attribution, maxZoom: 19 }).addTo(map);
  const markers = L.featureGroup().addTo(map);
  let fitted = false;

  function colour(location) {
    if (location.available > 0) return "#198754";
    if (location.online > 0) return "#0d6efd";
    return "#6c757d";
  }

  function popup(location) {
    const content = document.createElement("div");
    const name = document.createElement("strong");
    name.textContent = location.name;
    const address = document.createElement("div");
    address.textContent = location.address;
    const counts = document.createElement("div");
    counts.textContent = `${location.online} of ${location.chargers} chargers online, ${location.available} connectors free`;
    content.append(name, address, counts);
    return content;
  }

  function draw() {
    const locations = JSON.parse(document.getElementById("map-data").textContent);
    markers.clearLayers();
    for (const location of locations) {
      L.circleMarker([location.latitude, location.longitude], {
        radius: 9,
        color: colour(location),
        fillOpacity: 0.7,
      })
        .bindPopup(popup(location))
        .bindTooltip(location.name)
        .addTo(markers);
    }
    if (!fitted && locations.length) {
      map.fitBounds(markers.getBounds(), { padding: [30, 30], maxZoom: 15 });
      fitted = true;
    }
  }

  draw();
  document.getElementById("map-section").addEventListener("fragment:loaded", draw);
})();
