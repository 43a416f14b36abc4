/* The steering dashboard: sortable tables and the ECharts charts.
 *
 * The charts read the JSON of #dashboard-charts; each has `aria` on (ECharts
 * writes a description for screen readers) and the same figures sit in the
 * table beside it. Sorting is progressive: without JavaScript the tables keep
 * the server's order. */
(function () {
  "use strict";

  function sortTable(table, column, button) {
    var th = button.closest("th");
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var numeric = button.dataset.sortType !== "text";
    table.querySelectorAll("thead th").forEach(function (other) {
      other.setAttribute("aria-sort", "none");
    });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[column].dataset.sortValue || "";
      var y = b.cells[column].dataset.sortValue || "";
      var result;
      if (numeric) {
        // Empty values (no base, no target) sort last either way.
        if (x === "" || y === "") return x === y ? 0 : x === "" ? 1 : -1;
        result = parseFloat(x) - parseFloat(y);
      } else {
        result = x.localeCompare(y, "vi");
      }
      return ascending ? result : -result;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function setUpSorting() {
    document.querySelectorAll("table[data-sortable]").forEach(function (table) {
      table.querySelectorAll("thead th").forEach(function (th, column) {
        var button = th.querySelector(".sort-button");
        if (button) {
          button.addEventListener("click", function () { sortTable(table, column, button); });
        }
      });
    });
  }

  function baseOption(data) {
    return {
      aria: { enabled: true },
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { data: [data.rateLabel, data.targetLabel], bottom: 0 },
      grid: { containLabel: true, left: 8, right: 24, top: 16, bottom: 32 }
    };
  }

  function childrenChart(element, data) {
    element.style.height = Math.max(240, data.names.length * 28 + 80) + "px";
    var option = baseOption(data);
    option.xAxis = { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value} %" } };
    option.yAxis = { type: "category", data: data.names, inverse: true };
    option.series = [
      { name: data.rateLabel, type: "bar", data: data.rates },
      { name: data.targetLabel, type: "scatter", symbol: "diamond", symbolSize: 12, data: data.targets }
    ];
    return option;
  }

  function trendChart(element, data) {
    element.style.height = "280px";
    var option = baseOption(data);
    option.xAxis = { type: "category", data: data.years };
    option.yAxis = { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value} %" } };
    option.series = [
      { name: data.rateLabel, type: "line", data: data.rates, connectNulls: false },
      { name: data.targetLabel, type: "line", data: data.targets, lineStyle: { type: "dashed" } }
    ];
    return option;
  }

  function setUpCharts() {
    var source = document.getElementById("dashboard-charts");
    if (!source || typeof window.echarts === "undefined") return;
    var charts = JSON.parse(source.textContent);
    var builders = { children: childrenChart, trend: trendChart };
    var instances = [];
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var name = element.dataset.chart;
      if (!charts[name] || !builders[name]) return;
      var option = builders[name](element, charts[name]);
      var chart = window.echarts.init(element, null, { locale: "VI", renderer: "svg" });
      chart.setOption(option);
      element.dataset.chartReady = "1";
      instances.push(chart);
    });
    window.addEventListener("resize", function () {
      instances.forEach(function (chart) { chart.resize(); });
    });
  }

  function start() {
    setUpSorting();
    setUpCharts();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
