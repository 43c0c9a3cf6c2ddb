// The bars of the on-time closing rate and the satisfaction rate per row of the KPI page.
// Data comes from the json_script block "kpi-chart-data" ({labels, series: [{name, data}]});
// the table below holds the same numbers (null: no denominator, no bar).
(function () {
  "use strict";
  var el = document.getElementById("kpi-chart");
  var source = document.getElementById("kpi-chart-data");
  if (!el || !source || typeof echarts === "undefined") return;
  var data = JSON.parse(source.textContent);
  var chart = echarts.init(el);
  chart.setOption({
    grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
    legend: { top: 0 },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: function (v) { return v === null || v === undefined ? "—" : v + " %"; } },
    xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0, rotate: data.labels.length > 6 ? 30 : 0 } },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value} %" } },
    series: data.series.map(function (s, i) {
      return { name: s.name, type: "bar", data: s.data, itemStyle: { color: i === 0 ? "#0d6efd" : "#198754" } };
    }),
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
