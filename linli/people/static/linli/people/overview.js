// The bar chart of people by tag on the overview page. Data comes from the json_script
// block "tag-chart-data" ({labels, values}); the table beside it holds the same numbers.
(function () {
  "use strict";
  var el = document.getElementById("tag-chart");
  var source = document.getElementById("tag-chart-data");
  if (!el || !source || typeof echarts === "undefined") return;
  var data = JSON.parse(source.textContent);
  var chart = echarts.init(el);
  chart.setOption({
    grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: data.labels, inverse: true },
    series: [{ type: "bar", data: data.values, itemStyle: { color: "#0d6efd" } }],
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
