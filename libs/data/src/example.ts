// The unit every reader produces and every trainer consumes: one labelled piece of text.

export interface LabelledText {
  /** Unique within its dataset; readers fall back to `file:line` when the source has no id. */
  id: string;
  text: string;
  label: string;
}

export interface Dataset {
  name: string;
  examples: LabelledText[];
}
