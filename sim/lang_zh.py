"""Chinese (简体中文) messages, keyed by the English text they translate (see ``sim.i18n``).

Placeholders in braces are filled in as in English and must be kept; metric keys, file names,
option names and the ``location`` of a problem stay English. ``tests/test_i18n.py`` checks that
every English message the code uses has an entry here with the same placeholders.
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # terminal table (sim/table.py) and run
    "{name}: {runs} × {days} counted days, seed {seed}": (
        "{name}：{runs} × {days} 个计入天数，随机种子 {seed}"
    ),
    "replication {n} alone (its numbers in a full run)": "仅第 {n} 次模拟（与完整运行中的数值相同）",
    "uncertain inputs (drawn once per replication, shared by the strategies):": (
        "不确定的输入（每次模拟抽取一次，各策略共用）："
    ),
    "  [INCOMPLETE: interrupted]": "  [不完整：运行被中断]",
    "metric (mean ± {pct}% CI half-width)": "指标（均值 ± {pct}% 置信区间半宽）",
    "P(most profitable)": "利润最高的概率",
    "vs {baseline}": "对比 {baseline}",
    "metric": "指标",
    "difference": "差值",
    "{pct}% CI": "{pct}% 置信区间",
    "wins": "胜出",
    "Paired differences (common random numbers; wins = share of replications better):": (
        "配对差异（共同随机数；胜出 = 表现更好的模拟次数占比）："
    ),
    "Recommendation:": "建议：",
    "Results: {out}": "结果：{out}",
    # recommendation (sim/decide.py)
    "No replication finished, so there is nothing to recommend yet.": (
        "还没有完成任何一次模拟，暂时无法给出建议。"
    ),
    "Only one strategy ({best}): profit {profit} over {days} days, fill rate {fill}, on time "
    "{on_time}. Add strategies to compare.": (
        "只有一个方案（{best}）：{days} 天利润 {profit}，满足率 {fill}，准时率 {on_time}。"
        "请添加方案以便比较。"
    ),
    "Choose {best}: it makes {diff} more profit than {second} over {days} days ({pct}% interval "
    "{low} to {high}), wins in {wins} of the replications and is the most profitable strategy "
    "in {prob} of them.": (
        "选择 {best}：{days} 天内它比 {second} 多赚 {diff}（{pct}% 区间 {low} 至 {high}），"
        "在 {wins} 的模拟中胜出，并在 {prob} 的模拟中是利润最高的方案。"
    ),
    "{best} and {second} are too close to call on profit: {best} is ahead by {diff} on average "
    "over {days} days, but the {pct}% interval ({low} to {high}) includes 0 and {best} is the "
    "most profitable in only {prob} of the replications.": (
        "{best} 与 {second} 的利润难分高下：{days} 天内 {best} 平均领先 {diff}，但 {pct}% 区间"
        "（{low} 至 {high}）包含 0，且 {best} 只在 {prob} 的模拟中利润最高。"
    ),
    "Run about {needed} replications (now {now}; --reps {reps}) to tell them apart if the "
    "difference is real; if it stays this small, choose on service or risk instead.": (
        "如果差异真实存在，约需 {needed} 次模拟才能区分二者（现在 {now} 次；--reps {reps}）；"
        "如果差异一直这么小，请改按服务水平或风险来选择。"
    ),
    "Service, {best} vs {second}: fill rate {fill}, on time {on_time}, lost units {lost}": (
        "服务水平，{best} 对比 {second}：满足率 {fill}，准时率 {on_time}，缺货损失 {lost} 件"
    ),
    "{a} vs {b}": "{a} 对 {b}",
    "; account-health breach in {a} vs {b} of replications": (
        "；账户健康超标的模拟占比 {a} 对 {b}"
    ),
    "; SFP badge lost in {a} vs {b} of replications": ("；失去 SFP 标志的模拟占比 {a} 对 {b}"),
    ".": "。",
    ", ": "，",
    "{target} in {share}": "{target}：{share}",
    "; {safe} stays within the limits.": "；{safe} 保持在限值之内。",
    "; {safe} stay within the limits.": "；{safe} 保持在限值之内。",
    "Warning: {best} crosses an Amazon account-health target in {share} of the replications "
    "({which}), which puts the selling account at risk": (
        "警告：{best} 在 {share} 的模拟中超出亚马逊账户健康指标（{which}），卖家账户将面临风险"
    ),
    "seller-fulfilled orders": "卖家自配送订单",
    "Note: {best} loses its Seller Fulfilled Prime badge in {share} of the replications ({days} "
    "days without it on average; the Prime customers of those days are lost and already in its "
    "profit). That is SFP eligibility, not an account-health breach.": (
        "注意：{best} 在 {share} 的模拟中失去卖家自配送 Prime 标志（平均 {days} 天没有标志；"
        "这些天的 Prime 顾客流失，已计入其利润）。这是 SFP 资格问题，不是账户健康超标。"
    ),
    "What moves profit from {second} to {best}: {parts}.": (
        "从 {second} 换到 {best}，利润变化来自：{parts}。"
    ),
    "{part} cost": "{part}成本",
    "revenue": "收入",
    "product": "商品",
    "freight": "头程运费",
    "fulfillment": "配送",
    "storage": "仓储",
    "aged inventory": "超龄库存",
    "low inventory": "低库存",
    "placement": "入库配置",
    "referral": "销售佣金",
    "returns": "退货",
    "transfer": "调拨",
    "receiving": "入库",
    "fixed": "固定",
    "mcf": "多渠道配送",
    "channel": "渠道",
    # account-health targets (sim/health.py)
    "late shipments ≥ 4 % over 10 days": "10 天迟发率 ≥ 4 %",
    "late shipments ≥ 4 % over 30 days": "30 天迟发率 ≥ 4 %",
    "cancellations ≥ 2.5 % over 7 days": "7 天取消率 ≥ 2.5 %",
    "valid tracking ≤ 95 % over 30 days": "30 天有效追踪率 ≤ 95 %",
    "on-time delivery ≤ 90 % over 14 days": "14 天准时送达率 ≤ 90 %",
    "order defects ≥ 1 % over 60 days": "60 天订单缺陷率 ≥ 1 %",
    # validate (sim/cli.py, sim/loader.py)
    "ok: {name}: {skus} SKUs, {nodes} nodes, {strategies} strategies, {reps} replications × "
    "{days} days": (
        "通过：{name}：{skus} 个 SKU，{nodes} 个仓，{strategies} 个方案，{reps} 次模拟 × {days} 天"
    ),
    "note": "提示",
    " and {n} more": " 等另外 {n} 个",
    "no price for {skus}: they count no revenue or profit": "{skus} 没有售价：不计收入和利润",
    "Amazon fees from the bundled US tables; some values are unverified defaults (see README, "
    "'Amazon fees'); replace them with fee_overrides": (
        "亚马逊费用取自内置的美国费用表；其中部分数值是未经核实的默认值（见 README 的"
        "“Amazon fees”一节），可用 fee_overrides 替换"
    ),
    "… and {n} more problems": "…… 另有 {n} 个问题",
    "file not found": "找不到文件",
    "not a file": "不是文件",
    "not UTF-8 text (byte {byte})": "不是 UTF-8 文本（第 {byte} 个字节）",
    "the file is empty": "文件是空的",
    "YAML syntax error: {problem}": "YAML 语法错误：{problem}",
    "a scenario is a mapping of keys (name:, skus:, nodes:, strategies: …)": (
        "场景应是由键组成的映射（name:、skus:、nodes:、strategies: 等）"
    ),
    "duplicate key {key} (first on line {first})": "重复的键 {key}（第一次出现在第 {first} 行）",
    "unknown key": "未知的键",
    "; did you mean {key}?": "；是不是想写 {key}？",
    " (allowed: {keys})": "（可用的键：{keys}）",
    "required key is missing": "缺少必填的键",
    "an integer": "整数",
    "a number": "数字",
    "a mapping": "映射（键: 值）",
    "a list": "列表",
    "text": "文本",
    "expected {what}, got {value}": "应为{what}，实际是 {value}",
    "expected {what}, got {value} (true/false is not a number)": (
        "应为{what}，实际是 {value}（true/false 不是数字）"
    ),
    "expected {what}, got the text {value} (remove the quotes)": (
        "应为{what}，实际是文本 {value}（请去掉引号）"
    ),
    "expected {what}; got {value}": "应为 {what}；实际是 {value}",
    "has a control character (ESC, CR, BEL, …), not allowed here: {value}": (
        "含有控制字符（ESC、CR、BEL 等），此处不允许：{value}"
    ),
    "must be {sign} {bound}": "必须 {sign} {bound}",
    # report (sim/report.py, sim/plan_report.py)
    "fulfilsim report": "fulfilsim 报告",
    "Sections": "章节",
    "Recommendation": "建议",
    "Strategies": "方案",
    "Differences": "差异",
    "Charts": "图表",
    "Shipment plan": "发货计划",
    "SKUs": "SKU",
    "Inputs": "输入",
    "Run": "运行",
    "Replications": "模拟次数",
    " (interrupted)": "（被中断）",
    "Seed": "随机种子",
    "Horizon": "仿真期",
    "{days} days, {start} to {end}": "{days} 天，{start} 至 {end}",
    "{days} days": "{days} 天",
    "Warm-up": "预热期",
    "{days} days, not counted": "{days} 天，不计入结果",
    "none": "无",
    "Counted days": "计入天数",
    "Confidence": "置信水平",
    "{pct}% (Student t over replications)": "{pct}%（按模拟次数的 Student t 分布）",
    "{n}, baseline {baseline}": "{n} 个，基准 {baseline}",
    "Scenario file SHA-256": "场景文件 SHA-256",
    '<p class="warning" role="alert"><strong>Incomplete run.</strong> The run was interrupted '
    "before any replication finished, so there are no numbers yet.</p>": (
        '<p class="warning" role="alert"><strong>运行不完整。</strong>运行在任何一次模拟完成前'
        "就被中断了，所以还没有数字。</p>"
    ),
    '<p class="warning" role="alert"><strong>Incomplete run.</strong> The run was interrupted '
    "after {reps} finished replications; the numbers below use those only, so the intervals "
    "are wider than the scenario asked for.</p>": (
        '<p class="warning" role="alert"><strong>运行不完整。</strong>运行在完成 {reps} 次模拟后'
        "被中断；下面的数字只用了这些模拟，所以区间比场景要求的更宽。</p>"
    ),
    '<p class="warning" role="alert"><strong>Too few replications for intervals.</strong> Run '
    "at least 2 (better 30 or more) to see how sure the numbers are.</p>": (
        '<p class="warning" role="alert"><strong>模拟次数太少，无法给出区间。</strong>'
        "至少运行 2 次（最好 30 次以上）才能看出数字有多可靠。</p>"
    ),
    "Strategies compared": "方案比较",
    "Mean over replications ± half-width of the {pct}% confidence interval (a rate's interval "
    "is cut at 0% and 100%, and then shown as [low, high]). Money is over the {days} counted "
    "days.": (
        "各次模拟的均值 ± {pct}% 置信区间半宽（比率的区间截断在 0% 和 100% 之间，此时显示为 "
        "[下限, 上限]）。金额为 {days} 个计入天数的合计。"
    ),
    "baseline": "基准",
    "Decision": "决策",
    "Most profitable (share of replications)": "利润最高（模拟次数占比）",
    "Paired differences vs the baseline": "与基准的配对差异",
    "<p>Replication by replication, each strategy faces the same demand and the same lead and "
    "transit times as the baseline (common random numbers), so these intervals are narrower "
    "than comparing the separate intervals above. <em>Wins</em>: the share of replications in "
    "which the strategy did better than the baseline on that metric.</p>": (
        "<p>每一次模拟中，各方案面对与基准相同的需求、相同的补货周期和运输时间（共同随机数），"
        "所以这些区间比直接比较上面各自的区间更窄。<em>胜出</em>：该方案在这个指标上优于基准的"
        "模拟次数占比。</p>"
    ),
    "minus": "减",
    "{pct}% interval": "{pct}% 区间",
    "reading": "解读",
    "no clear difference": "无明显差异",
    "higher": "更高",
    "lower": "更低",
    "better": "更好",
    "worse": "更差",
    "Per SKU": "按 SKU",
    "All {n} SKUs, in catalogue order.": "全部 {n} 个 SKU，按商品目录顺序。",
    "The {shown} SKUs with the most demand of {n}; every SKU is in skus.csv.": (
        "{n} 个 SKU 中需求最大的 {shown} 个；全部 SKU 见 skus.csv。"
    ),
    "Mean ± half-width of the {pct}% interval, per SKU and strategy.": (
        "每个 SKU、每个方案的均值 ± {pct}% 区间半宽。"
    ),
    "SKU": "SKU",
    "strategy": "方案",
    "Scenario inputs": "场景输入",
    "The scenario file as run (its SHA-256 is listed under Run).": (
        "本次运行所用的场景文件（其 SHA-256 见“运行”一节）。"
    ),
    "Service": "服务",
    "Delivery": "配送",
    "Money": "金额",
    "Costs": "成本",
    "Account health": "账户健康",
    "Seller Fulfilled Prime": "卖家自配送 Prime",
    "Other": "其他",
    "$": "$",
    "%": "%",
    "units": "件",
    "days": "天",
    "Units demanded": "需求量",
    "Units sold": "销量",
    "Fill rate": "满足率",
    "Cycle service level": "周期服务水平",
    "Lost sales": "缺货损失销量",
    "Backordered units": "缺货待发量",
    "Average on hand": "平均在库量",
    "Average on backorder": "平均缺货待发量",
    "Orders shipped": "已发订单",
    "On-time delivery": "准时送达率",
    "Late shipments": "迟发率",
    "Days to delivery": "送达天数",
    "Revenue": "收入",
    "Total cost": "总成本",
    "Profit": "利润",
    "Margin lost on lost sales": "缺货损失的毛利",
    "Account-health breach (share of replications)": "账户健康超标（模拟次数占比）",
    "Days in account-health breach": "账户健康超标天数",
    "Days without the badge": "无标志天数",
    "Cancelled by the seller": "卖家取消量",
    "Pre-fulfilment cancellations": "发货前取消率",
    "Valid tracking": "有效追踪率",
    "Order defects": "订单缺陷率",
    "SFP badge lost (share of replications)": "失去 SFP 标志（模拟次数占比）",
    "Breach: late shipments ≥ 4 % over 10 days (share of replications)": (
        "超标：10 天迟发率 ≥ 4 %（模拟次数占比）"
    ),
    "Breach: late shipments ≥ 4 % over 30 days (share of replications)": (
        "超标：30 天迟发率 ≥ 4 %（模拟次数占比）"
    ),
    "Breach: cancellations ≥ 2.5 % over 7 days (share of replications)": (
        "超标：7 天取消率 ≥ 2.5 %（模拟次数占比）"
    ),
    "Breach: valid tracking ≤ 95 % over 30 days (share of replications)": (
        "超标：30 天有效追踪率 ≤ 95 %（模拟次数占比）"
    ),
    "Breach: on-time delivery ≤ 90 % over 14 days (share of replications)": (
        "超标：14 天准时送达率 ≤ 90 %（模拟次数占比）"
    ),
    "Breach: order defects ≥ 1 % over 60 days (share of replications)": (
        "超标：60 天订单缺陷率 ≥ 1 %（模拟次数占比）"
    ),
    '<p class="note">The text inside the charts is in English: no font with Chinese characters '
    "was found on this computer (install one, e.g. fonts-noto-cjk, and run again).</p>": (
        '<p class="note">图表内的文字为英文：本机没有找到含中文字符的字体（请安装一个，例如 '
        "fonts-noto-cjk，然后重新运行）。</p>"
    ),
    "order week": "下单周",
    "arrives": "到货周",
    "At FBA on November 1": "11 月 1 日在 FBA 的库存",
    "date": "日期",
    "on hand": "在库",
    "on hand + on the way": "在库 + 在途",
    "Units each strategy orders on each lane, by ISO week of the order (its Monday shown), as "
    "median (10–90% range) over {kept} replications, and the ISO week they arrive (join stock, "
    "check-in included; the median over replications). Then the units at FBA at the start of "
    "November 1 (the end of October 31), without and with the units already on their way. "
    "Counted days only (after the warm-up). ": (
        "各方案在每条线路上按下单的 ISO 周（显示该周周一）的下单量，为 {kept} 次模拟的中位数"
        "（10–90% 范围），以及到货的 ISO 周（入库可售，含上架时间；各次模拟的中位数）。然后是 "
        "11 月 1 日开始时（10 月 31 日结束时）在 FBA 的库存，分别不含和包含已在途的数量。"
        "只计预热期之后的天数。"
    ),
    "Only the SKUs with the most demand are shown; every lane, SKU and week is in plan.csv.": (
        "只显示需求最大的 SKU；所有线路、SKU 和周见 plan.csv。"
    ),
    "Every lane, SKU and week is in plan.csv.": "所有线路、SKU 和周见 plan.csv。",
    # charts (sim/charts.py)
    "Key metrics with intervals": "关键指标及其区间",
    "Dot: mean over replications; whiskers: {pct}% confidence interval; dashed line: the "
    "baseline ({baseline}).": (
        "圆点：各次模拟的均值；须线：{pct}% 置信区间；虚线：基准（{baseline}）。"
    ),
    "Mean and confidence interval of profit, on-time rate, fill rate and lost units for each "
    "strategy.": "各方案利润、准时率、满足率和缺货损失销量的均值与置信区间。",
    "$ over the counted days": "计入天数内的金额（$）",
    "% of shipped orders": "占已发订单的 %",
    "% of units demanded, from stock on the day": "当天由现货满足的需求量 %",
    "no data": "无数据",
    "The decision: profit difference to {best}": "决策：与 {best} 的利润差",
    "Each strategy's profit minus that of {best} (the recommended strategy) in each of the {n} "
    "replications, which face the same demand and lead times. Box: the middle half of the "
    "replications; whiskers: 5th to 95th percentile; dot: mean; faint ticks: single "
    "replications{first}. Where the red zero line falls is the answer: a strategy whose box "
    "lies left of it makes less profit than {best} in most replications.": (
        "在 {n} 次模拟中的每一次（需求和补货周期都相同），各方案的利润减去 {best}（推荐方案）的"
        "利润。箱体：中间一半的模拟；须线：第 5 到第 95 百分位；圆点：均值；浅色短线：单次模拟"
        "{first}。红色零线的位置就是答案：箱体在零线左侧的方案，在大多数模拟中利润低于 {best}。"
    ),
    " (the first {k})": "（前 {k} 次）",
    "Distribution over replications of each strategy's profit minus {best}'s, with the zero "
    "line marked.": "各方案利润减去 {best} 利润在各次模拟中的分布，标出零线。",
    "Profit minus {best}'s, replication by replication": "逐次模拟：利润减去 {best} 的利润",
    "$ over the counted days; right of the red line: more profit than {best}": (
        "计入天数内的金额（$）；红线右侧：利润高于 {best}"
    ),
    "ahead in {share}": "领先 {share}",
    "Costs by component": "各项成本",
    "Mean cost of each component over the counted days; components that are zero for every "
    "strategy are left out. Diamond: mean revenue (profit is the gap between it and the bar).": (
        "计入天数内各项成本的均值；对所有方案都为零的项目不显示。菱形：平均收入（它与柱子之间的"
        "差就是利润）。"
    ),
    "Stacked bars of each strategy's mean cost by component, with mean revenue marked.": (
        "各方案按成本项目堆叠的平均成本，并标出平均收入。"
    ),
    "$ over the {days} counted days (mean over replications)": (
        "{days} 个计入天数内的金额（$，各次模拟的均值）"
    ),
    "Month by month": "逐月",
    "Fill rate by month": "各月满足率",
    "% of the month's units demanded": "占当月需求量的 %",
    "Units on hand by month": "各月在库量",
    "mean end-of-day units, all nodes": "日终平均在库件数（所有仓）",
    "peak": "旺季",
    "Mean over replications of each calendar month's counted days; bars: {pct}% confidence "
    "interval.": "各日历月计入天数的各次模拟均值；竖线：{pct}% 置信区间。",
    " Shaded: {month}, the month with the most demand a day (the peak).": (
        "阴影：{month}，日均需求最大的月份（旺季）。"
    ),
    "Fill rate and average units on hand by calendar month for {names}": (
        "{names} 按日历月的满足率和平均在库量"
    ),
    "; the peak month {month} is shaded.": "；旺季月份 {month} 以阴影标出。",
    "Jan": "1月",
    "Feb": "2月",
    "Mar": "3月",
    "Apr": "4月",
    "May": "5月",
    "Jun": "6月",
    "Jul": "7月",
    "Aug": "8月",
    "Sep": "9月",
    "Oct": "10月",
    "Nov": "11月",
    "Dec": "12月",
    "Inventory over time": "库存随时间变化",
    "{strategy}  ·  at {node}": "{strategy}  ·  {node} 仓",
    "units on hand": "在库件数",
    "median": "中位数",
    "10–90% of replications": "10–90% 的模拟",
    "warm-up ({days} days, not counted)": "预热期（{days} 天，不计入）",
    "{reps} replications": "{reps} 次模拟",
    "1 replication": "1 次模拟",
    "the first {reps} of {total} replications": "{total} 次模拟中的前 {reps} 次",
    "; the first {shown} of {total} strategy–node pairs": "；{total} 个方案–仓组合中的前 {shown} 个",
    "End-of-day units on hand of the SKUs with the most demand, at each node of each "
    "strategy{more}: median and 10–90% band over {kept}": (
        "需求最大的 SKU 在各方案各仓的日终在库件数{more}：{kept}的中位数和 10–90% 区间带"
    ),
    ", warm-up shaded.": "，预热期以阴影标出。",
    "Fan charts of units on hand over time of {skus} at: {where}.": (
        "{skus} 的在库件数随时间变化的扇形图，位置：{where}。"
    ),
    "{strategy} at {node}": "{strategy} 的 {node} 仓",
    # channels, AWD, glossary and reruns
    "Sales-channel fees": "销售渠道费用",
    "Multi-Channel Fulfillment fees": "多渠道配送（MCF）费用",
    "orders": "订单",
    "replication {n} alone": "仅第 {n} 次模拟",
    "Channels": "销售渠道",
    "What the numbers mean": "数字的含义",
    "By sales channel (Amazon first):": "按销售渠道（亚马逊在前）：",
    "Sales channels": "销售渠道",
    "Each channel's units, service and the costs that fall on it: Amazon's referral and FBA "
    "fees on Amazon orders; the channel's own fees and Multi-Channel Fulfillment fees (or a "
    "seller node's pick, pack and labels) on the others. Storage, freight and fixed costs are "
    "shared and shown only in the strategy totals.": (
        "各渠道的件数、服务水平及其承担的费用：亚马逊订单承担亚马逊的销售佣金和 FBA 费用；其他渠道"
        "承担该渠道自身的费用和多渠道配送（MCF）费用（或卖家仓库的拣货、包装和面单费用）。仓储、"
        "运费和固定成本为共同成本，只计入策略总计。"
    ),
    # glossary (sim/glossary.py)
    "{title}:": "{title}：",
    "the {counted} simulated days after the {warmup}-day warm-up (which fills the pipeline and "
    "is not counted)": "{warmup} 天预热期（用于填满在途库存，不计入）之后的 {counted} 个模拟日",
    "all {counted} simulated days (no warm-up)": "全部 {counted} 个模拟日（无预热期）",
    "mean ± half-width": "均值 ± 半宽",
    "the average over the replications (independent simulated runs of the same period), and "
    "the half-width of its {pct}% confidence interval: if the scenario's inputs are right, an "
    "interval made this way (mean minus to mean plus the half-width) holds the long-run average "
    "in {pct} of 100 runs. Four times the replications halve it. A rate's interval is cut at 0% "
    "and 100% and then shown as [low, high].": (
        "各次模拟（对同一时期相互独立的模拟运行）的平均值，以及其 {pct}% 置信区间的半宽：若场景的"
        "输入正确，按此方法构造的区间（均值减半宽至均值加半宽）在 100 次中有 {pct} 次包含长期平均"
        "值。模拟次数增至四倍，半宽减半。比率的区间在 0% 和 100% 处截断，并以 [下限, 上限] 显示。"
    ),
    "paired difference": "配对差异",
    "strategy minus baseline, replication by replication: in replication i both faced the same "
    "customers and the same lead times (common random numbers), so luck cancels out and the "
    "difference's interval is much narrower than the two separate intervals suggest.": (
        "逐次模拟计算的策略值减基准值：在第 i 次模拟中两者面对相同的顾客和相同的补货周期（共同随机"
        "数），运气因素相互抵消，因此差值的区间远比两个单独区间所显示的窄。"
    ),
    "the share of replications in which the strategy did better than the baseline on that "
    "metric (more profit, less cost, fewer lost units…); a tie is not a win, and '–' means the "
    "two were equal in every replication.": (
        "该策略在此指标上优于基准的模拟次数占比（利润更高、成本更低、缺货损失更少……）；持平不算"
        "胜出，“–”表示两者在每次模拟中都相同。"
    ),
    "cycle service level": "周期服务水平",
    "the share of SKU-days on which all of the day's demand was served from stock on hand (a "
    "day short by one unit counts as a miss).": (
        "当天全部需求都由现有库存满足的 SKU-天占比（当天只差一件也算未满足）。"
    ),
    "fill rate": "满足率",
    "units served from stock on the day they were ordered, divided by units ordered (a day "
    "short by one unit of a hundred still fills 99%).": (
        "下单当天由库存满足的件数除以订购件数（一百件中只差一件，当天满足率仍为 99%）。"
    ),
    "counted days": "计入天数",
    "{warm}; every total, rate and cost covers these days only.": (
        "{warm}；所有总计、比率和成本仅涵盖这些天。"
    ),
    # validate notes (sim/cli.py)
    "AWD fees from sim/fees/data/awd.yaml: Amazon's 2025-04-01 rates, carried on after "
    "2025-09-30 as unverified defaults (see README, 'Amazon fees'); replace them with "
    "fee_overrides: {awd: …}": (
        "AWD 费用取自 sim/fees/data/awd.yaml：亚马逊 2025-04-01 的费率，2025-09-30 之后沿用为未经"
        "核实的默认值（见 README 的 'Amazon fees'）；可用 fee_overrides: {awd: …} 替换"
    ),
    "Multi-Channel Fulfillment fees from an undated Amazon table (help page 201112650), "
    "unverified defaults; replace them with fee_overrides.mcf (see README, 'Other sales "
    "channels')": (
        "多渠道配送（MCF）费用取自亚马逊一张未注明日期的费率表（帮助页面 201112650），为未经核实的"
        "默认值；可用 fee_overrides.mcf 替换（见 README 的 'Other sales channels'）"
    ),
    "uncertain: {dist}, drawn once per replication": "不确定：{dist}，每次模拟抽取一次",
}
