// The part of papaparse that core uses: parsing a string. @types/papaparse opens with
// `/// <reference types="node" />` (for its stream API), which would give every core file Node's globals;
// tsconfig.core.json maps 'papaparse' here so a Node global in core stays a type error.
export interface ParseError {
  type: 'Quotes' | 'Delimiter' | 'FieldMismatch';
  code: 'MissingQuotes' | 'UndetectableDelimiter' | 'TooFewFields' | 'TooManyFields' | 'InvalidQuotes';
  message: string;
  row?: number;
  index?: number;
}

export interface ParseMeta {
  delimiter: string;
  linebreak: string;
  aborted: boolean;
  truncated: boolean;
  cursor: number;
  fields?: string[];
}

export interface ParseStepResult<T> {
  data: T;
  errors: ParseError[];
  meta: ParseMeta;
}

export interface ParseResult<T> {
  data: T[];
  errors: ParseError[];
  meta: ParseMeta;
}

export interface ParseConfig<T> {
  delimiter?: string;
  header?: false;
  preview?: number;
  skipEmptyLines?: boolean | 'greedy';
  step?: (result: ParseStepResult<T>) => void;
}

export function parse<T>(text: string, config?: ParseConfig<T>): ParseResult<T>;

declare const Papa: { parse: typeof parse };
export default Papa;
