import { describe, expect, it } from 'vitest';
import { LabelsBuilder, sanitizeLabelName } from '../../../query/stages/labels-builder.js';

describe('LabelsBuilder', () => {
  it('returns the stream object itself while nothing changed', () => {
    const stream = { app: 'api' };
    const b = new LabelsBuilder();
    b.reset(stream);
    expect(b.labels()).toBe(stream);
    b.set('x', '1');
    expect(b.labels()).toEqual({ app: 'api', x: '1' });
    b.reset(stream);
    expect(b.labels()).toBe(stream);
  });

  it('suffixes extracted names that clash with stream labels, but lets set() overwrite', () => {
    const b = new LabelsBuilder();
    b.reset({ app: 'api' });
    b.setExtracted('app', 'x');
    expect(b.labels()).toEqual({ app: 'api', app_extracted: 'x' });
    b.set('app', 'y');
    expect(b.get('app')).toBe('y');
  });

  it('deletes stream and extracted labels and can re-add them', () => {
    const b = new LabelsBuilder();
    b.reset({ app: 'api', env: 'prod' });
    b.setExtracted('level', 'info');
    b.delete('env');
    b.delete('level');
    expect(b.labels()).toEqual({ app: 'api' });
    b.set('env', 'dev');
    expect(b.labels()).toEqual({ app: 'api', env: 'dev' });
  });

  it('does not see Object.prototype names as labels', () => {
    const b = new LabelsBuilder();
    b.reset({ app: 'api' });
    expect(b.get('constructor')).toBeUndefined();
    expect(b.get('toString')).toBeUndefined();
  });

  it('adds structured metadata as extracted labels', () => {
    const b = new LabelsBuilder();
    b.reset({ app: 'api' }, { trace_id: 't1', app: 'm' });
    expect(b.labels()).toEqual({ app: 'api', trace_id: 't1', app_extracted: 'm' });
  });

  it('ranks stream label > metadata > parsed field for the plain name, and the reverse for <name>_extracted', () => {
    const b = new LabelsBuilder();
    b.reset({ app: 'api' }, { lvl: 'm' });
    b.setExtracted('lvl', 'p');
    expect(b.labels()).toEqual({ app: 'api', lvl: 'm', lvl_extracted: 'p' });
    b.reset({ app: 'api', lvl: 's' }, { lvl: 'm' });
    b.setExtracted('lvl', 'p');
    expect(b.labels()).toEqual({ app: 'api', lvl: 's', lvl_extracted: 'p' });
    // The next entry of the same stream without metadata: the parsed field takes the plain name.
    b.reset({ app: 'api' });
    b.setExtracted('lvl', 'p');
    expect(b.labels()).toEqual({ app: 'api', lvl: 'p' });
  });

  it('a metadata name deleted or overwritten no longer pushes parsed fields aside', () => {
    const b = new LabelsBuilder();
    b.reset({ app: 'api' }, { lvl: 'm', trace: 't' });
    b.delete('lvl');
    b.set('trace', 'f');
    b.setExtracted('lvl', 'p');
    b.setExtracted('trace', 'q');
    expect(b.labels()).toEqual({ app: 'api', lvl: 'p', trace: 'q' });
  });
});

describe('sanitizeLabelName', () => {
  it('replaces invalid characters and prefixes a leading digit', () => {
    expect(sanitizeLabelName('user-id')).toBe('user_id');
    expect(sanitizeLabelName(' a.b ')).toBe('a_b');
    expect(sanitizeLabelName('1st')).toBe('_1st');
    expect(sanitizeLabelName('héllo')).toBe('h_llo');
    expect(sanitizeLabelName('   ')).toBe('');
    expect(sanitizeLabelName('ok_Name9')).toBe('ok_Name9');
  });
});
