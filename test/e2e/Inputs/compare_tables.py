#!/usr/bin/env python3
"""Compares two dispatch-table dumps (extract_tables.py's output) by what the
runtime reads, not by text (SSA numbering makes a textual diff useless): per
table, the buffers, then per dispatch its name, mode, share, granule, tile
count, bindings (buffer, access) and dependencies; prints what differs and, per
table, the kernel count and how many bindings carry an offset (abi.h v5).
Kernels are compared by count only (their code may change freely).

Usage: compare_tables.py OLD.tables NEW.tables
"""
import re,sys,json
def parse(path):
    g={};cur=None
    for line in open(path):
        m=re.match(r'\s*llvm.mlir.global .*@(\S+?)\(\)',line)
        if m: cur=m.group(1); env={}; g[cur]=None; continue
        if cur is None: continue
        m=re.match(r'\s*(%\d+) = llvm.mlir.constant\((-?\d+) : i\d+\)',line)
        if m: env[m.group(1)]=int(m.group(2)); continue
        m=re.match(r'\s*(%\d+) = llvm.mlir.addressof @(\S+) :',line)
        if m: env[m.group(1)]='@'+m.group(2); continue
        m=re.match(r'\s*(%\d+) = llvm.mlir.(poison|zero|undef)',line)
        if m: env[m.group(1)]={} ; continue
        m=re.match(r'\s*(%\d+) = llvm.insertvalue (%\d+), (%\d+)\[(\d+)\]',line)
        if m:
            d=dict(env[m.group(3)]); d[int(m.group(4))]=env[m.group(2)]; env[m.group(1)]=d; continue
        m=re.match(r'\s*llvm.return (%\d+)',line)
        if m: g[cur]=env[m.group(1)]; cur=None; continue
        m=re.match(r'\s*llvm.mlir.global .*@(\S+)\("',line)
    return g
def lst(d): return [d[i] for i in sorted(d)] if isinstance(d,dict) else d
def tables(path):
    g=parse(path); out={}
    for name,v in g.items():
        if not name.startswith('smepilot_table_') or v is None: continue
        t=lst(v)
        base=name[len('smepilot_table_'):]
        pre='__smepilot_'+base
        kernels=[k for k in lst(g[pre+'_kernels'])] if g.get(pre+'_kernels') else []
        disp=[lst(x) for x in lst(g[pre+'_dispatches'])] if g.get(pre+'_dispatches') else []
        binds=[lst(x) for x in lst(g[pre+'_bindings'])] if g.get(pre+'_bindings') else []
        deps=lst(g[pre+'_deps']) if g.get(pre+'_deps') else []
        bufs=[[b[0],lst(b[1]),b[2],b[3]] if isinstance(b,list) else b for b in [lst(x) for x in lst(g[pre+'_buffers'])]] if g.get(pre+'_buffers') else []
        D=[]
        for d in disp:
            bb,bc,db,dc=d[7],d[8],d[9],d[10]
            D.append(dict(name=d[0],mode=d[3],share=d[4],gran=d[5],tiles=lst(d[6]),
                binds=[(b[0],b[1]) for b in binds[bb:bb+bc]], offs=[(b[2] if len(b)>2 else 0) for b in binds[bb:bb+bc]],
                deps=deps[db:db+dc], cpu=kernels[d[1]] if d[1]>=0 else None, sme=kernels[d[2]] if 0<=d[2]<len(kernels) else None))
        out[base]=dict(n_const=t[1],n_args=t[4],bufs=bufs,disp=D,nk=len(kernels))
    return out
o=tables(sys.argv[1]); n=tables(sys.argv[2])
for base in sorted(set(o)|set(n)):
    if base not in o or base not in n:
        print(base, 'only in', sys.argv[1] if base in o else sys.argv[2]); continue
    a,b=o[base],n[base]
    for k in ('n_const','n_args','bufs'):
        if a[k]!=b[k]: print(base, k, 'differs')
    if len(a['disp'])!=len(b['disp']):
        print(base,'dispatches',len(a['disp']),'->',len(b['disp'])); continue
    noff=[0,0]
    for i,(x,y) in enumerate(zip(a['disp'],b['disp'])):
        for k in ('name','mode','share','gran','tiles','binds','deps'):
            if x[k]!=y[k]: print(base,'dispatch',i,k,x[k],'->',y[k])
        noff[0]+=sum(1 for v in x['offs'] if v); noff[1]+=sum(1 for v in y['offs'] if v)
    print(base,'dispatches',len(a['disp']),'kernels',a['nk'],'->',b['nk'],'bindings with an offset',noff[0],'->',noff[1])
