package main

import (
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// chart draws one row per scenario: answers (2xx) per second and p99
// latency per second for each operation, and the gateway's resident memory.
func chart(rep *report, path string) error {
	if len(rep.Scenarios) == 0 {
		return nil
	}
	rows := make([][]*plot.Plot, len(rep.Scenarios))
	for i, sc := range rep.Scenarios {
		rate, p99, mem := plot.New(), plot.New(), plot.New()
		rate.Title.Text, p99.Title.Text, mem.Title.Text = sc.Name+": 2xx per second", sc.Name+": p99 ms", sc.Name+": gateway RSS MiB"
		for _, p := range []*plot.Plot{rate, p99, mem} {
			p.X.Label.Text = "seconds"
			p.Legend.Top = true
		}
		var rateLines, p99Lines []any
		for _, o := range sc.Ops {
			if len(o.Series) == 0 {
				continue
			}
			r, l := make(plotter.XYs, len(o.Series)), make(plotter.XYs, len(o.Series))
			for k, pt := range o.Series {
				r[k] = plotter.XY{X: float64(pt.T), Y: float64(pt.OK)}
				l[k] = plotter.XY{X: float64(pt.T), Y: pt.P99ms}
			}
			rateLines = append(rateLines, o.Op, r)
			p99Lines = append(p99Lines, o.Op, l)
		}
		if err := plotutil.AddLines(rate, rateLines...); err != nil {
			return err
		}
		if err := plotutil.AddLines(p99, p99Lines...); err != nil {
			return err
		}
		if len(sc.RSS) > 0 {
			m := make(plotter.XYs, len(sc.RSS))
			for k, pt := range sc.RSS {
				m[k] = plotter.XY{X: pt.T, Y: pt.MiB}
			}
			if err := plotutil.AddLines(mem, "RSS", m); err != nil {
				return err
			}
		}
		rows[i] = []*plot.Plot{rate, p99, mem}
	}
	img := vgimg.New(vg.Points(1500), vg.Points(float64(len(rows))*260))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(rows), Cols: 3, PadX: vg.Millimeter * 6, PadY: vg.Millimeter * 6,
		PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 3}
	canvases := plot.Align(rows, tiles, dc)
	for i := range rows {
		for j := range rows[i] {
			rows[i][j].Draw(canvases[i][j])
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
